"""``corpus``, ``generate`` and ``mix``: the data commands as functions.

Each takes records in any form :func:`biasinherit.read_records` reads (a path, a list of records
or dicts, a DataFrame, a ``datasets`` Dataset) and returns the records it made; a file (or a
Hugging Face dataset folder with its card) is written only when ``out`` is given.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from biasinherit.api._errors import keyword_errors
from biasinherit.errors import BiasInheritError

if TYPE_CHECKING:
    from biasinherit.records import RecordList

__all__ = ["corpus", "generate", "mix"]

Progress = Callable[[int, int], None]  # (done, total)


def _source_path(source: Any) -> Path | None:
    """The path a record source names, or None for data already in memory."""
    return Path(source) if isinstance(source, (str, Path)) else None


def _check_inputs(**sources: Any) -> None:
    """A path input that is a symlink loop, in one line naming its keyword."""
    from biasinherit.links import check_not_a_loop

    for field, source in sources.items():
        path = _source_path(source)
        if path is not None:
            check_not_a_loop(path, field=field)


def _check_out(out: str | Path | None, format: str | None, inputs: list[Any]) -> None:
    """Refuse an output that cannot be written, before any work."""
    if out is None:
        if format is not None:
            raise BiasInheritError("format is given but out is not: name where to write", field="format")
        return
    from biasinherit.links import check_not_a_loop
    from biasinherit.outputs import check_output_file, check_output_folder
    from biasinherit.records import output_format

    check_not_a_loop(out, field="out")
    paths = [p for p in (_source_path(i) for i in inputs) if p is not None]
    if output_format(out, format) == "hf":
        check_output_folder(out, inputs=paths, field="out", kind="dataset")
    else:
        from biasinherit.folder_kinds import check_file_not_owned
        from biasinherit.links import link_target

        check_output_file(out, inputs=paths, field="out")
        check_file_not_owned(link_target(out), field="out")  # a study's results.csv is no place for records


def _write(records: RecordList, out: str | Path | None, format: str | None,
           card: Mapping[str, Any]) -> None:
    if out is None:
        return
    from biasinherit.links import link_target
    from biasinherit.records import write_records

    # a link is written through (a dataset folder is replaced whole, which would replace the link)
    write_records(records, link_target(out), format=format, card=dict(card))


def _describe(source: Any) -> str:
    path = _source_path(source)
    return str(path) if path is not None else f"<{type(source).__name__}>"


def corpus(*, size: int = 2000, seed: int = 0, out: str | Path | None = None,
           format: str | None = None) -> RecordList:
    """The built-in original corpus (seeded, gender-balanced at every size, counterbalanced)."""
    from biasinherit.corpora import CorpusConfig, build_corpus
    from biasinherit.records import RecordList

    _check_out(out, format, [])
    with keyword_errors():
        config = CorpusConfig(size=size, seed=seed)
    records = RecordList(build_corpus(config))
    _write(records, out, format, {"source": "the built-in corpus", "generator": None,
                                  "config": {"command": "corpus", "size": size, "seed": seed}})
    return records


def generate(
    input: Any,
    *,
    generator: str = "builtin",
    bias_type: str = "plain",
    intensity: float = 1.0,
    polarity: str | None = None,
    n: int = 1000,
    seed: int = 0,
    model: str | None = None,
    base_url: str | None = None,
    api_key_env: str = "OPENAI_API_KEY",
    concurrency: int = 8,
    cache_dir: str | Path | None = None,
    temperature: float = 0.7,
    max_new_tokens: int = 256,
    timeout: float = 60.0,
    max_retries: int = 8,
    batch_size: int = 8,
    on_unparseable: str = "error",
    parse_retries: int = 2,
    request_style: str = "rewrite",
    chat_template: str = "auto",
    columns: Mapping[str, str] | None = None,
    split: str | None = None,
    out: str | Path | None = None,
    format: str | None = None,
    progress: Progress | None = None,
) -> RecordList:
    """Augmented records for one bias type (or ``"plain"`` augmentation) from ``input``.

    ``generator``: ``builtin`` (the controlled bias injector), ``openai`` (any OpenAI-compatible
    server: ``model`` is the served model's name, ``base_url`` the server) or ``hf`` (a local
    causal LM: ``model`` is its folder, with or without ``hf:``). Options that belong to another
    generator than the one named are refused, as on the command line.
    """
    from biasinherit.generators import GenerationRequest, get_generator
    from biasinherit.records import RecordList, read_records
    from biasinherit.taxonomy import load_taxonomy

    _check_inputs(input=input)
    _check_out(out, format, [input])
    if cache_dir is not None:
        from biasinherit.folder_kinds import check_folder_kind
        from biasinherit.outputs import check_output_folder

        check_output_folder(cache_dir, inputs=[_source_path(input), out], field="cache_dir")
        check_folder_kind(cache_dir, None, field="cache_dir")  # a cache is no study, model, ... folder
    with keyword_errors():
        request = GenerationRequest(bias_type=bias_type, intensity=intensity,  # type: ignore[arg-type]
                                    polarity=polarity, n=n, seed=seed)
    request.validate_against(load_taxonomy())
    given = dict(model=model, base_url=base_url, api_key_env=api_key_env, concurrency=concurrency,
                 cache_dir=cache_dir, temperature=temperature, max_new_tokens=max_new_tokens, timeout=timeout,
                 max_retries=max_retries, batch_size=batch_size, on_unparseable=on_unparseable,
                 parse_retries=parse_retries, request_style=request_style, chat_template=chat_template)
    options = generator_options(generator, given)
    if generator == "hf" and isinstance(options.get("model"), str):
        from biasinherit.models.check import check_model_spec

        check_model_spec("hf:" + str(options["model"]), field="model", allow_openai=False)
    with keyword_names():
        gen = get_generator(generator, **options)  # a bad option or model fails before the input is read
    originals = read_records(input, columns=columns, split=split)
    if not originals:
        raise BiasInheritError("no records: nothing to augment", path=_describe(input))
    records = RecordList(gen.generate(originals, request, progress=progress))
    _write(records, out, format, {
        "source": _describe(input), "generator": generator, "model": model, "bias_type": bias_type,
        "intensity": intensity, "polarity": polarity,
        "config": {"command": "generate", **request.model_dump(mode="json"), "generator": generator,
                   "model": model, "temperature": temperature, "request_style": request_style},
    })
    return records


# the keyword arguments of :func:`generate` that belong to a generator; each generator's
# constructor takes them under these names, except where _OPTION_NAMES says (the openai
# generator calls max_new_tokens max_tokens, the API's name for it)
_GENERATOR_KEYWORDS = ("model", "base_url", "api_key_env", "concurrency", "cache_dir", "temperature",
                       "max_new_tokens", "timeout", "max_retries", "batch_size", "on_unparseable", "parse_retries",
                       "request_style", "chat_template")
_OPTION_NAMES = {"openai": {"max_new_tokens": "max_tokens"}}
_PREFIXES = {"openai": "openai:", "hf": "hf:"}


def renames_for(generator: str, keyword: str) -> str:
    """The option name ``generator`` takes the keyword ``keyword`` as."""
    return _OPTION_NAMES.get(generator, {}).get(keyword, keyword)


def generator_options(generator: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """The options ``generator`` takes from the keywords ``given``. A keyword set (not at its
    default) for a generator that has no such option is refused, as the study config refuses it:
    ``temperature=0.2`` with the builtin generator used to be ignored without a word."""
    import inspect

    from biasinherit.generators.base import GENERATORS, accepted_options

    if generator not in GENERATORS:
        from biasinherit.errors import unknown_name_error

        raise unknown_name_error("generator", generator, GENERATORS)
    defaults = {k: p.default for k, p in inspect.signature(generate).parameters.items()}
    accepted = accepted_options(generator)
    options: dict[str, Any] = {}
    for keyword, value in given.items():
        if keyword not in _GENERATOR_KEYWORDS:  # pragma: no cover - a caller's mistake, not a user's
            raise ValueError(f"{keyword} is not a generator keyword")
        option = renames_for(generator, keyword)
        if option not in accepted:
            if value is not None and value != defaults[keyword]:
                takers = [g for g in GENERATORS if renames_for(g, keyword) in accepted_options(g)]
                raise BiasInheritError(
                    f"the {generator} generator takes no {keyword} (it applies to the {' and '.join(takers)} "
                    f"generator{'s' if len(takers) > 1 else ''}); leave it out or choose that generator",
                    field=keyword)
            continue
        if keyword == "model" and isinstance(value, str) and generator in _PREFIXES:
            value = _strip(value, _PREFIXES[generator])
        if keyword == "cache_dir" and value is not None:
            value = Path(value)
        options[option] = value
    return options


@contextlib.contextmanager
def keyword_names() -> Iterator[None]:
    """A generator's option error names the option (``max_tokens``); here it names the keyword."""
    try:
        yield
    except BiasInheritError as exc:
        back = {v: k for k, v in _OPTION_NAMES.get("openai", {}).items()}
        if exc.field in back:
            exc.field = back[exc.field]
        raise


def _strip(model: str | None, prefix: str) -> str | None:
    """``hf:DIR`` and ``DIR`` name the same local model (and ``openai:NAME`` the same served
    one): every command takes the spellings ``--model`` takes elsewhere."""
    return model[len(prefix):] if model is not None and model.startswith(prefix) else model


def mix(
    original: Any,
    augmented: Any,
    *,
    ratio: float,
    size: int | None = None,
    mode: str = "replace",
    seed: int = 0,
    columns: Mapping[str, str] | None = None,
    split: str | None = None,
    out: str | Path | None = None,
    format: str | None = None,
) -> RecordList:
    """Original and augmented records mixed at a bias ratio (the share of augmented records).

    ``mode="replace"`` keeps ``size`` records in all (default: as many as there are originals);
    ``mode="add"`` keeps every original and adds augmented ones up to the ratio."""
    from biasinherit.mixing import check_unique_ids, mix_at_ratio, mix_counts
    from biasinherit.outputs import same_path
    from biasinherit.records import RecordList, read_records

    if mode not in ("replace", "add"):
        raise BiasInheritError(f"unknown mix mode '{mode}' (use replace or add)", field="mode")
    if ratio != ratio:
        raise BiasInheritError("got NaN (not a number); give a share of augmented records from 0 to 1", field="ratio")
    if not 0.0 <= ratio <= 1.0:
        raise BiasInheritError(f"ratio must be between 0 and 1, got {ratio}", field="ratio")
    if size is not None and mode == "add":
        raise BiasInheritError("size applies to replace mode; add mode keeps every original record", field="size")
    _check_inputs(original=original, augmented=augmented)
    a, b = _source_path(original), _source_path(augmented)
    if a is not None and b is not None and a.exists() and same_path(a, b):
        raise BiasInheritError("the same file is given as original and augmented", path=b, field="augmented")
    _check_out(out, format, [original, augmented])
    mix_counts(ratio, size=size, n_original=0 if mode == "replace" else 1, mode=mode)  # type: ignore[arg-type]
    orig = read_records(original, columns=columns, split=split)
    aug = read_records(augmented, columns=columns, split=split)
    check_unique_ids(orig, path=_describe(original))
    check_unique_ids(aug, path=_describe(augmented), others=orig, others_path=_describe(original))
    if not orig and mode == "add":
        raise BiasInheritError("no records: add mode needs original records", path=_describe(original))
    mixed = RecordList(mix_at_ratio(orig, aug, ratio=ratio, size=size, mode=mode, seed=seed))  # type: ignore[arg-type]
    if not mixed:
        raise BiasInheritError("the mix would be empty (no original records and ratio 0)", path=_describe(original))
    bias_types = sorted({r.bias_type or "plain" for r in mixed if r.source == "augmented"})
    _write(mixed, out, format, {
        "source": f"{_describe(original)} + {_describe(augmented)}", "ratio": ratio,
        "bias_type": ", ".join(bias_types) or None,
        "config": {"command": "mix", "ratio": ratio, "size": size, "mode": mode, "seed": seed},
    })
    return mixed
