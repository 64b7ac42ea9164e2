"""A study config checked as a whole, before any work: each key can be valid on its own and the
config still mean something other than what it says.

- Lists: an empty grid list (``bias_types``, ``ratios``, ``seeds``, ``[tasks] names``) runs cells
  that compare nothing and then fails in the report; a duplicate runs the same cells twice and
  counts their tests twice in the false-discovery family.
- Mitigations: a mitigation is compared with the unmitigated model of the same bias type, ratio
  and seed, so its bias types, ratios and seeds must be the study's own; otherwise it has no
  baseline and no test. Bias types a *preset* chose for its own grid are skipped (said in the
  log) when the config names no mitigation of its own, as documented; a config that names
  mitigations gets them checked.
- Contradictions: settings that a run would ignore (``[data] corpus_size`` beside ``path``,
  ``[mix] size`` in add mode, a polarity without a stereotype type, a benchmark limit without
  benchmarks) are refused instead of ignored.
- Sizes: a replace-mode mix of ``[mix] size`` records draws that many original records; a
  corpus that is smaller used to fail after pretraining.

Each message names the keys as the file spells them (``[mix] size``) and says what to change.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from biasinherit.errors import BiasInheritError

if TYPE_CHECKING:
    from biasinherit.studies.config import StudyConfig

__all__ = ["check_study_config", "check_study_sizes"]

log = logging.getLogger(__name__)


def _duplicates(values: Sequence[Any]) -> list[Any]:
    seen: list[Any] = []
    dup: list[Any] = []
    for v in values:
        if v in seen and v not in dup:
            dup.append(v)
        seen.append(v)
    return dup


def _section(override: Mapping[str, Any] | None, name: str) -> Mapping[str, Any] | None:
    """The section ``name`` of the user's own config (None when the user did not write it); with
    no override (a config built in Python) every value is the user's."""
    if override is None:
        return None
    value = override.get(name)
    return value if isinstance(value, Mapping) else {}


def _named(override: Mapping[str, Any] | None, section: str, key: str) -> bool:
    """Whether the user's own config sets ``[section] key`` (True without an override)."""
    if override is None:
        return True
    sec = _section(override, section)
    return sec is not None and key in sec


def _fmt(values: Sequence[Any]) -> str:
    return "[" + ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values) + "]"


def check_study_config(config: StudyConfig, *, override: Mapping[str, Any] | None = None,
                       preset: str | None = None) -> None:
    """Refuse a config that does not mean what it says (see the module notes); ``override`` is
    what the user's file or mapping set over ``preset``."""
    _check_lists(config)
    config.validate_names()
    _check_mitigations(config, override, preset)
    _check_contradictions(config, override)
    _check_model(config)
    if config.data.path is None:
        check_study_sizes(config, config.data.corpus_size, where="[data] corpus_size")


def _check_lists(config: StudyConfig) -> None:
    lists: dict[str, Sequence[Any]] = {
        "bias_types": config.bias_types, "ratios": config.ratios, "seeds": config.seeds,
        "tasks.names": config.tasks.names,
    }
    what = {"bias_types": "bias type (or plain)", "ratios": "ratio", "seeds": "seed", "tasks.names": "task (or all)"}
    for key, values in lists.items():
        if not values:
            raise BiasInheritError(f"is empty: a study needs at least one {what[key]}", field=key)
    for key, values in {**lists, "mitigation.names": config.mitigation.names,
                        "mitigation.ratios": config.mitigation.ratios,
                        "mitigation.bias_types": config.mitigation.bias_types or [],
                        "mitigation.seeds": config.mitigation.seeds or []}.items():
        dup = _duplicates(list(values))
        if dup:
            raise BiasInheritError(f"{_fmt(dup)} given more than once: each would run (and be tested) twice; "
                                   "list each once", field=key)
    if "all" in config.tasks.names and len(config.tasks.names) > 1:
        raise BiasInheritError("'all' already names every task: give 'all' alone or the tasks you want",
                               field="tasks.names")
    if not any(r > 0 for r in config.ratios):
        raise BiasInheritError(f"{_fmt(config.ratios)} has no ratio above 0: every cell would train on original "
                               "data only, so there is nothing to measure; add a ratio such as 1.0", field="ratios")


def _check_mitigations(config: StudyConfig, override: Mapping[str, Any] | None, preset: str | None) -> None:
    m = config.mitigation
    if not m.names:
        return
    own = _section(override, "mitigation")
    requested = own is None or bool(own)  # the user's config has a [mitigation] section of its own
    origin = f" (the {preset or 'quick'} preset's)"
    if m.bias_types is not None:
        if not m.bias_types:
            raise BiasInheritError("is empty: no bias type would be mitigated; name some of the study's bias_types, "
                                   "or set [mitigation] names = [] for no mitigations", field="mitigation.bias_types")
        missing = [bt for bt in m.bias_types if bt not in config.bias_types]
        if missing and not requested:  # a preset's mitigations, chosen for the preset's own bias types
            log.info("the %s preset's mitigations (%s) skip %s: not among bias_types", preset or "quick",
                     ", ".join(m.names), ", ".join(missing))
            if len(missing) == len(m.bias_types):
                return  # none is trained: nothing more to check
        elif missing:
            said = "" if _named(override, "mitigation", "bias_types") else origin
            raise BiasInheritError(
                f"{', '.join(missing)}{said} {'is' if len(missing) == 1 else 'are'} not among the study's bias_types "
                f"{_fmt(config.bias_types)}: the mitigation would be skipped; set [mitigation] bias_types to some "
                "of them (or add the type to bias_types)", field="mitigation.bias_types")
    if not m.ratios:
        raise BiasInheritError("is empty but [mitigation] names are given: name the ratios to train them at, "
                               "or set [mitigation] names = [] for no mitigations", field="mitigation.ratios")
    for r in m.ratios:
        if not any(abs(r - s) < 1e-9 for s in config.ratios):
            said = "" if _named(override, "mitigation", "ratios") else origin
            raise BiasInheritError(
                f"{r:g}{said} is not among the study's ratios {_fmt(config.ratios)}: a mitigated cell is "
                f"compared with the unmitigated one at its ratio, which would not exist; add {r:g} to ratios or "
                "set [mitigation] ratios to some of them", field="mitigation.ratios")
    if m.seeds is not None and not m.seeds:
        raise BiasInheritError("is empty: no seed would train a mitigation; leave it out for all the study's seeds, "
                               "or set [mitigation] names = [] for no mitigations", field="mitigation.seeds")


def _check_contradictions(config: StudyConfig, override: Mapping[str, Any] | None) -> None:
    data = _section(override, "data")
    if config.data.path is not None:
        both = {"path", "corpus_size"} <= (set(data) if data is not None else config.data.model_fields_set)
        if both:
            raise BiasInheritError("[data] path and [data] corpus_size are both given: corpus_size sizes the "
                                   "built-in corpus and a file is read whole; drop one of them",
                                   field="data.corpus_size")
    if config.data.columns and config.data.path is None:
        raise BiasInheritError("[data] columns maps a file's columns, but no [data] path is given", field="data.columns")
    if config.mix.mode == "add" and config.mix.size is not None and _named(override, "mix", "size"):
        raise BiasInheritError("[mix] size applies to replace mode; add mode keeps every original record: drop "
                               "[mix] size or use mode = \"replace\"", field="mix.size")
    if config.mix.mode == "add" and 1.0 in config.ratios:
        raise BiasInheritError("ratio 1.0 cannot be reached in [mix] mode = \"add\" (it keeps every original record, "
                               "so augmented records can never be all of the mix): drop 1.0 from ratios or use "
                               "mode = \"replace\"", field="ratios")
    if config.polarity is not None and not any(bt.endswith(".stereotype") for bt in config.bias_types):
        raise BiasInheritError(f"polarity applies to *.stereotype bias types, and bias_types {_fmt(config.bias_types)} "
                               "has none: drop polarity or add a stereotype type", field="polarity")
    if config.tasks.benchmark_limit is not None and not config.tasks.benchmarks:
        raise BiasInheritError("[tasks] benchmark_limit is given but [tasks] benchmarks names none",
                               field="tasks.benchmark_limit")
    _check_task_limit(config)


def _check_task_limit(config: StudyConfig) -> None:
    """``[tasks] limit``: a number >= 1, or a table whose keys are tasks the study runs (the
    benchmarks have ``benchmark_limit``)."""
    from biasinherit.tasks.base import check_limit

    known = None
    if isinstance(config.tasks.limit, dict):
        from biasinherit.tasks.registry import resolve_tasks

        known = [t.name for t in resolve_tasks(",".join(config.tasks.names))]
    check_limit(config.tasks.limit, "tasks.limit", known)


def _check_model(config: StudyConfig) -> None:
    from biasinherit.models.check import check_dtype

    check_dtype(str(config.model.get("dtype", "auto")), str(config.model.get("model", "tiny")), field="model.dtype")


def check_study_sizes(config: StudyConfig, n_original: int, *, where: str) -> None:
    """A replace-mode mix draws ``[mix] size`` original records (at ratio 0, and the paired mixes
    at every ratio replace that many in place), so the original data must hold that many; said
    before any work, naming both keys (``where``: ``[data] corpus_size`` or the data file)."""
    if config.mix.mode != "replace" or config.mix.size is None or config.mix.size <= n_original:
        return
    if where == "[data] corpus_size":
        raise BiasInheritError(
            f"[mix] size = {config.mix.size} needs {config.mix.size} original records, but [data] corpus_size = "
            f"{n_original} makes only {n_original}: lower [mix] size or raise [data] corpus_size",
            field="mix.size")
    raise BiasInheritError(
        f"[mix] size = {config.mix.size} needs {config.mix.size} original records, but [data] path ({where}) holds "
        f"{n_original}: lower [mix] size (or leave it out to use them all)", field="mix.size")
