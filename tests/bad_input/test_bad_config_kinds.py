"""Kinds of bad input that need no command line, as properties over generated cases
(Hypothesis): study configs valid key by key that do not mean what they say, option values
that one generator refused and another ignored, JSON arrays given as JSONL, output names whose
suffix decides the format, dtypes, hub ids where the hub cannot be reached, and folder kinds.
Each property says what must be refused (and with which key named) and what must pass."""

from __future__ import annotations

import json
import math
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from biasinherit.errors import BiasInheritError
from biasinherit.studies.config import study_config_from_mapping
from biasinherit.studies.grid import build_grid
from biasinherit.studies.presets import SIX_TYPES

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# a small valid study over the quick preset; each property changes one kind of thing in it
BASE: dict[str, Any] = {
    "bias_types": ["gender.association", "gender.stereotype"], "ratios": [0.0, 0.5, 1.0], "seeds": [0, 1],
    "data": {"corpus_size": 100}, "mix": {"size": 100},
    "mitigation": {"names": ["mask"], "ratios": [1.0], "bias_types": ["gender.association"]},
    "tasks": {"names": ["coref"]},
}
LISTS = {  # key -> values a list of it may hold
    "bias_types": SIX_TYPES, "ratios": [0.0, 0.25, 0.5, 1.0], "seeds": [0, 1, 2, 3],
    "tasks.names": ["coref", "stereo_pairs", "story"], "mitigation.names": ["token", "mask", "loss"],
    "mitigation.ratios": [0.5, 1.0], "mitigation.bias_types": ["gender.association", "gender.stereotype"],
    "mitigation.seeds": [0, 1],
}


def _with(mapping: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    out = json.loads(json.dumps(mapping))
    *parents, last = key.split(".")
    node = out
    for p in parents:
        node = node.setdefault(p, {})
    node[last] = value
    return out


def _refused(mapping: dict[str, Any]) -> BiasInheritError:
    with pytest.raises(BiasInheritError) as err:
        study_config_from_mapping(mapping)
    assert "\n" not in str(err.value)
    return err.value


def test_the_base_config_is_valid() -> None:
    config = study_config_from_mapping(BASE)
    assert any(c.mitigation == "mask" for c in build_grid(config))


@FAST
@given(key=st.sampled_from(sorted(LISTS)), data=st.data())
def test_a_duplicate_in_any_list_is_refused_naming_it(key: str, data: st.DataObject) -> None:
    values = data.draw(st.lists(st.sampled_from(LISTS[key]), min_size=1, max_size=3, unique=True))
    twice = data.draw(st.sampled_from(values))
    listed = data.draw(st.permutations([*values, twice]))
    mapping = _with(BASE, key, listed)
    if key == "bias_types":  # keep the mitigation's type among the study's
        mapping = _with(mapping, "mitigation.bias_types", [listed[0]])
    if key == "ratios":
        mapping = _with(mapping, "ratios", [*listed, 0.0, 1.0] if 1.0 not in listed else [*listed, 0.0])
    err = _refused(mapping)
    assert err.field == key, str(err)
    assert "more than once" in err.message


@FAST
@given(key=st.sampled_from(["bias_types", "ratios", "seeds", "tasks.names", "mitigation.ratios",
                            "mitigation.bias_types", "mitigation.seeds"]))
def test_an_empty_list_is_refused_naming_it(key: str) -> None:
    err = _refused(_with(BASE, key, []))
    assert err.field == key or err.message.startswith(f"{key}: "), str(err)


@FAST
@given(study=st.lists(st.sampled_from(SIX_TYPES), min_size=1, max_size=4, unique=True),
       mitigated=st.lists(st.sampled_from(SIX_TYPES), min_size=1, max_size=3, unique=True),
       ratios=st.lists(st.sampled_from([0.25, 0.5, 0.75, 1.0]), min_size=1, max_size=3, unique=True),
       mitigation_ratios=st.lists(st.sampled_from([0.25, 0.5, 0.75, 1.0]), min_size=1, max_size=2, unique=True))
def test_mitigations_need_the_studys_bias_types_and_ratios(study: list[str], mitigated: list[str],
                                                           ratios: list[float], mitigation_ratios: list[float]) -> None:
    """A mitigated cell has an unmitigated cell of its bias type, ratio and seed, or the config
    is refused naming the key that breaks it (they used to be dropped, or have no baseline)."""
    mapping = {**BASE, "bias_types": study, "ratios": [0.0, *ratios],
               "mitigation": {"names": ["mask"], "ratios": mitigation_ratios, "bias_types": mitigated}}
    types_ok = set(mitigated) <= set(study)
    ratios_ok = set(mitigation_ratios) <= set(ratios)
    if types_ok and ratios_ok:
        cells = build_grid(study_config_from_mapping(mapping))
        plain = {(c.seed, c.bias_type, c.ratio) for c in cells if c.mitigation == "none"}
        mitigated_cells = [c for c in cells if c.mitigation != "none"]
        assert mitigated_cells and all((c.seed, c.bias_type, c.ratio) in plain for c in mitigated_cells)
    else:
        err = _refused(mapping)
        assert err.field == ("mitigation.bias_types" if not types_ok else "mitigation.ratios"), str(err)


@FAST
@given(study=st.lists(st.sampled_from([t for t in SIX_TYPES if t != "gender.representation"]), min_size=1,
                      max_size=3, unique=True),
       names=st.lists(st.sampled_from(["token", "mask", "loss"]), min_size=1, max_size=3, unique=True))
def test_a_requested_mitigation_with_the_presets_bias_type_is_refused(study: list[str], names: list[str]) -> None:
    """The quick preset mitigates gender.representation; a config that names mitigations but not
    their bias types, over a study without that type, is refused (it used to lose them)."""
    err = _refused({"bias_types": study, "mitigation": {"names": names}, "tasks": {"names": ["coref"]}})
    assert err.field == "mitigation.bias_types" and "quick preset" in err.message


@FAST
@given(corpus=st.integers(1, 400), size=st.integers(1, 400))
def test_a_mix_larger_than_the_corpus_is_refused_naming_both_keys(corpus: int, size: int) -> None:
    mapping = {**BASE, "data": {"corpus_size": corpus}, "mix": {"size": size}}
    if size <= corpus:
        study_config_from_mapping(mapping)
    else:
        err = _refused(mapping)
        assert "[mix] size" in err.message and "[data] corpus_size" in err.message


@pytest.mark.parametrize("key", ["intensity", "ratios", "mitigation.ratios", "generator.options.temperature",
                                 "generator.options.timeout"])
def test_nan_in_any_number_of_a_config_is_said_as_nan(key: str) -> None:
    value: Any = [0.0, math.nan] if key == "ratios" else [math.nan] if key == "mitigation.ratios" else math.nan
    mapping = _with(BASE, key, value)
    if key.startswith("generator"):
        mapping = _with(mapping, "generator.name", "openai")
        mapping = _with(mapping, "generator.options.model", "m")
    err = _refused(mapping)
    assert "NaN" in err.message and "<=" not in err.message.split("NaN")[0], str(err)


def test_contradictory_settings_are_refused(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text('{"response": "x"}\n')
    cases = {
        "data.corpus_size": {"data": {"path": str(data), "corpus_size": 10}},
        "data.columns": {"data": {"columns": {"response": "text"}}},
        "mix.size": {"mix": {"mode": "add", "size": 10}, "ratios": [0.0, 0.5]},
        "polarity": {"bias_types": ["gender.association"], "polarity": "negative"},
        "tasks.benchmark_limit": {"tasks": {"names": ["coref"], "benchmark_limit": 5}},
    }
    for key, change in cases.items():
        mapping = {**BASE, **change}
        if key == "mix.size":
            mapping["mitigation"] = {**BASE["mitigation"], "ratios": [0.5]}
        if key == "polarity":
            mapping["mitigation"] = {"names": []}
        err = _refused(mapping)
        assert err.field == key, (key, str(err))


@pytest.mark.parametrize("limit, says", [
    (0, "must be an integer >= 1, got 0"),
    ({"coref": 0}, "the limit of 'coref' must be an integer >= 1"),
    ({"story": 3}, "limit names 'story', which is not among the tasks run (coref)"),
    ({}, "names no task"),
])
def test_a_task_limit_names_tasks_the_study_runs_and_counts_from_one(limit: Any, says: str) -> None:
    err = _refused({**BASE, "tasks": {"names": ["coref"], "limit": limit}})
    assert err.field == "tasks.limit" and says in err.message, str(err)


# ---- option values: one rule, whichever generator takes the option ----------------------

BAD_VALUES = st.one_of(st.just(math.nan), st.just(-1), st.just(-0.5), st.just(10**9), st.just("lots"),
                       st.just(True), st.just(None).map(lambda _: [1]))


@FAST
@given(option=st.sampled_from(["temperature", "max_new_tokens", "max_tokens", "batch_size", "concurrency",
                               "timeout", "max_retries", "parse_retries", "on_unparseable", "chat_template",
                               "request_style"]), value=BAD_VALUES)
def test_an_option_value_is_judged_the_same_by_every_generator_that_takes_it(option: str, value: Any) -> None:
    from biasinherit.generators.base import GENERATORS, OPTION_RULES, accepted_options, check_generator_options

    takers = [g for g in GENERATORS if option in accepted_options(g)]
    outcomes = []
    for generator in takers:
        try:
            check_generator_options(generator, {option: value})
            outcomes.append("accepted")
        except BiasInheritError as exc:
            assert exc.field == option
            outcomes.append(exc.message)
    assert len(set(outcomes)) <= 1, dict(zip(takers, outcomes))  # the same verdict, the same words
    try:
        OPTION_RULES[option](option, value)
    except BiasInheritError:
        assert outcomes == [] or outcomes[0] != "accepted"


@FAST
@given(temperature=st.floats(allow_nan=True, allow_infinity=True))
def test_temperature_is_accepted_exactly_in_zero_to_two(temperature: float) -> None:
    from biasinherit.generators.base import check_generator_options

    for generator in ("openai", "hf"):
        ok = 0.0 <= temperature <= 2.0
        try:
            check_generator_options(generator, {"temperature": temperature})
            assert ok
        except BiasInheritError as exc:
            assert not ok and ("NaN" in exc.message) == math.isnan(temperature)


def test_a_builtin_option_given_to_the_builtin_generator_is_refused_not_ignored(tmp_path: Path) -> None:
    import biasinherit

    records = [{"response": "The nurse helped.", "id": "r1"}]
    with pytest.raises(BiasInheritError) as err:
        biasinherit.generate(records, temperature=0.2, n=1)
    assert err.value.field == "temperature" and "openai and hf" in err.value.message
    assert len(biasinherit.generate(records, temperature=0.7, n=1)) == 1  # the default is no choice


# ---- JSON arrays given as JSONL ------------------------------------------------------------

@FAST
@given(texts=st.lists(st.text(min_size=1, max_size=20).filter(str.strip), min_size=1, max_size=4),
       indent=st.sampled_from([None, 2]), suffix=st.sampled_from([".jsonl", ".json", ".ndjson"]))
def test_a_json_array_of_records_says_jsonl_needs_one_object_per_line(texts: list[str], indent: int | None,
                                                                       suffix: str) -> None:
    from biasinherit.records import read_records

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"records{suffix}"
        path.write_text(json.dumps([{"response": t} for t in texts], indent=indent) + "\n", encoding="utf-8")
        with pytest.raises(BiasInheritError) as err:
            read_records(path)
    assert "JSON array; JSONL needs one object per line" in err.value.message
    assert err.value.line == 1


# ---- an output's suffix decides its format, or it is refused -------------------------------

@FAST
@given(suffix=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=6))
def test_an_output_suffix_decides_the_format_or_is_refused(suffix: str) -> None:
    import biasinherit
    from biasinherit.records import SUFFIX_FORMATS, read_records

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"corpus.{suffix}"
        if f".{suffix}" not in SUFFIX_FORMATS:
            with pytest.raises(BiasInheritError, match="cannot tell the output format"):
                biasinherit.corpus(size=4, out=out)
            assert not out.exists()
            return
        written = biasinherit.corpus(size=4, out=out)
        assert [r.id for r in read_records(out)] == [r.id for r in written]


def test_corpus_out_csv_writes_csv_that_reads_back(tmp_path: Path) -> None:
    """#24: corpus --out x.csv used to write JSONL under a .csv name that could not be read."""
    import csv

    from bad_input_support import run_in_process

    out = tmp_path / "x.csv"
    code, _, err = run_in_process(["corpus", "--size", "6", "--out", str(out)])
    assert code == 0, err
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 6 and "response" in rows[0]
    code, _, err = run_in_process(["mix", "--original", str(out), "--augmented", str(out), "--ratio", "0",
                                   "--out", str(tmp_path / "m.jsonl")])
    assert code == 2 and "same file" in err  # read back as records: refused only for being given twice


# ---- dtypes -----------------------------------------------------------------------------------

@FAST
@given(dtype=st.text(min_size=1, max_size=10))
def test_a_dtype_training_cannot_use_is_refused(dtype: str) -> None:
    from biasinherit.models.check import DTYPES, check_dtype

    assume(dtype not in DTYPES)
    for model in ("tiny", "hf:some/model"):
        with pytest.raises(BiasInheritError, match="unknown dtype"):
            check_dtype(dtype, model)


def test_train_refuses_float8_before_reading_the_data(tmp_path: Path) -> None:
    import biasinherit

    with pytest.raises(BiasInheritError) as err:
        biasinherit.train(tmp_path / "never-read.jsonl", dtype="float8", out=tmp_path / "m")
    assert err.value.field == "dtype" and not (tmp_path / "m").exists()


# ---- hub ids where the hub cannot be reached -------------------------------------------------

hub_ids = st.builds(lambda a, b: f"{a}/{b}", st.from_regex(r"[a-z][a-z0-9-]{1,12}", fullmatch=True),
                    st.from_regex(r"[a-z][a-z0-9._-]{1,16}", fullmatch=True))


@settings(max_examples=25, deadline=None)
@given(repo=hub_ids, offline=st.booleans())
def test_a_hub_id_unreachable_here_is_one_line_within_seconds(repo: str, offline: bool) -> None:
    from biasinherit.models.check import check_model_spec

    env = {"HF_HUB_OFFLINE": "1"} if offline else {"HF_HUB_OFFLINE": "0", "HF_ENDPOINT": "http://127.0.0.1:9",
                                                    "HTTPS_PROXY": "", "https_proxy": "", "ALL_PROXY": ""}
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        started = time.perf_counter()
        with pytest.raises(BiasInheritError) as err:
            check_model_spec(f"hf:{repo}", field="model")
        assert time.perf_counter() - started < 5
    assert repo in err.value.message and "not in the local Hugging Face cache" in err.value.message
    assert ("HF_HUB_OFFLINE" in err.value.message) == offline


# ---- folder kinds -------------------------------------------------------------------------------

@FAST
@given(data=st.data())
def test_a_folder_is_the_kind_its_marker_says_and_refuses_the_others(data: st.DataObject) -> None:
    from biasinherit.folder_kinds import KINDS, check_file_not_owned, check_folder_kind, folder_kinds

    kind = data.draw(st.sampled_from(sorted(KINDS)))
    marker = data.draw(st.sampled_from(KINDS[kind].markers))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "f"
        folder.mkdir()
        assert folder_kinds(folder) == {}
        check_folder_kind(folder, data.draw(st.sampled_from(sorted(KINDS))))  # an empty folder suits any kind
        (folder / marker).write_text("{}")
        if marker == "config.json":  # a config.json is a model with weights beside it
            assert folder_kinds(folder) == {}
            (folder / "model.safetensors").write_bytes(b"")
        assert folder_kinds(folder) == {kind: marker}
        check_folder_kind(folder, kind)
        other = data.draw(st.sampled_from(sorted(set(KINDS) - {kind})))
        with pytest.raises(BiasInheritError, match=f"is an? {kind} folder"):
            check_folder_kind(folder, other)
        with pytest.raises(BiasInheritError, match=f"is an? {kind} folder"):
            check_folder_kind(folder, None)  # a cache folder must be of no kind
        owned = data.draw(st.sampled_from(KINDS[kind].owns))
        with pytest.raises(BiasInheritError, match="would replace"):
            check_file_not_owned(folder / owned)
        check_file_not_owned(folder / "something-else.jsonl")
