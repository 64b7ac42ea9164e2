"""The dataset card written with records: what they are and where they came from.

Synthetic data that carries bias on purpose must not travel without saying so. A card is YAML
metadata that the Hugging Face hub reads (license, size category, task, language, tags) followed
by the provenance a reader needs to trust or reproduce the data: the original records, the
generator and its model, the bias types with their intensity and polarity, the bias ratio, counts
by source and bias type, the biasinherit version and the config hash. The caller says what only
it knows (a :class:`CardInfo`, or a dict of its fields); what the records say about themselves
(``source``, ``bias_type``, ``meta["generation"]``, see :mod:`biasinherit.generators.base`) is
counted while they are written (:class:`RecordStats`), so the counts are those of the file.

The metadata goes through ``huggingface_hub``'s ``DatasetCardData``/``DatasetCard`` (installed
with ``datasets``), so it is the YAML the hub expects; without ``huggingface_hub`` it is dumped
with PyYAML. The same numbers sit under the ``biasinherit`` key of the YAML for programs.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from biasinherit.errors import BiasInheritError, did_you_mean
from biasinherit.records import Record

__all__ = ["CardInfo", "RecordStats", "card_info", "card_path", "config_hash", "render_card", "size_category"]

_NONE = "none"  # the bias_type of records without one: originals, plain augmentation, a request's unbiased share
_SIZE_CATEGORIES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
                    (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B"))


class CardInfo(BaseModel):
    """What the caller knows about records that the records cannot say (all optional)."""

    model_config = ConfigDict(extra="forbid")

    source: str | None = Field(default=None, description="the original records: a path or a description")
    generator: str | None = Field(default=None, description="the generator that wrote the augmented records")
    model: str | None = Field(default=None, description="the generator's model")
    bias_type: str | list[str] | None = Field(default=None, description="bias type(s) requested, or 'plain'")
    intensity: float | None = Field(default=None, ge=0, le=1, description="share of outputs asked to carry the bias")
    polarity: str | None = Field(default=None, description="stereotype polarity: negative or positive")
    ratio: float | None = Field(default=None, ge=0, le=1, description="bias ratio: share of augmented records")
    config: dict[str, Any] | None = Field(default=None, description="the settings that made the records (hashed)")
    config_hash: str | None = Field(default=None, description="a hash computed elsewhere; wins over config's")
    license: str | None = Field(default=None, description="license id for the hub; unknown when not given")
    language: str | list[str] = Field(default="en", description="language(s) of the text")
    pretty_name: str | None = Field(default=None, description="the card's title; default: the file's name")
    description: str | None = Field(default=None, description="a paragraph said first, in the caller's words")

    @field_validator("source", "model", mode="before")
    @classmethod
    def _paths_as_text(cls, value: Any) -> Any:
        return os.fspath(value) if isinstance(value, os.PathLike) else value


def card_info(card: Mapping[str, Any] | CardInfo | None) -> CardInfo:
    """Validate what a caller passed as ``card``: an unknown key is a typo, said with a guess."""
    if card is None:
        return CardInfo()
    if isinstance(card, CardInfo):
        return card
    if not isinstance(card, Mapping):
        raise BiasInheritError(f"card must be a dict of card fields, got {type(card).__name__}", field="card")
    known = list(CardInfo.model_fields)
    for key in card:
        if key not in CardInfo.model_fields:
            raise BiasInheritError(f"unknown card field '{key}'.{did_you_mean(str(key), known)} "
                                   f"Fields: {', '.join(known)}", field=f"card.{key}")
    try:
        return CardInfo.model_validate(dict(card))
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"][:1])
        raise BiasInheritError(err["msg"], field=f"card.{where}") from None


def config_hash(config: Mapping[str, Any]) -> str:
    """SHA-256 of the config as canonical JSON (sorted keys), first 16 hex digits: the same
    scheme as a study's manifest, so a study config dict hashes to its run's ``config_hash``."""
    canonical = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def size_category(n: int) -> str:
    """The hub's ``size_categories`` bin for ``n`` records."""
    for bound, name in _SIZE_CATEGORIES:
        if n < bound:
            return name
    return "n>1B"


def card_path(path: str | Path) -> Path:
    """Where a file's card goes: ``<name>.README.md`` beside it (``mix.parquet.README.md``)."""
    p = Path(path)
    return p.with_name(f"{p.name}.README.md")


@dataclass
class RecordStats:
    """Counts of records as they stream past (one pass; nothing is kept but counters)."""

    n: int = 0
    cells: Counter[tuple[str, str]] = field(default_factory=Counter)  # (bias_type, source)
    generators: Counter[str] = field(default_factory=Counter)
    models: set[str] = field(default_factory=set)
    requested_bias_types: set[str] = field(default_factory=set)
    intensities: set[float] = field(default_factory=set)
    polarities: set[str] = field(default_factory=set)

    def observe(self, record: Record) -> None:
        self.n += 1
        self.cells[(record.bias_type or _NONE, record.source)] += 1
        generation = record.meta.get("generation")
        if not isinstance(generation, dict):
            return
        if isinstance(generation.get("generator"), str):
            self.generators[generation["generator"]] += 1
        arguments = generation.get("arguments")
        if isinstance(arguments, dict) and isinstance(arguments.get("model"), str):
            self.models.add(arguments["model"])
        request = generation.get("request")
        if isinstance(request, dict):
            bias_type = request.get("bias_type")
            self.requested_bias_types.add(bias_type if isinstance(bias_type, str) else "plain")
            if isinstance(request.get("intensity"), (int, float)):
                self.intensities.add(float(request["intensity"]))
            if isinstance(request.get("polarity"), str):
                self.polarities.add(request["polarity"])

    def tap(self, records: Iterable[Record]) -> Iterator[Record]:
        """Pass ``records`` through, counting each."""
        for record in records:
            self.observe(record)
            yield record

    def by(self, axis: int) -> dict[str, int]:
        """Counts by bias type (axis 0) or by source (axis 1), largest first."""
        counts: Counter[str] = Counter()
        for key, n in self.cells.items():
            counts[key[axis]] += n
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _one_or_all(values: Iterable[Any]) -> Any:
    """None, the one value, or all of them sorted: a card says "0.6", not "[0.6]"."""
    found = sorted(set(values), key=str)
    return None if not found else found[0] if len(found) == 1 else found


def _provenance(info: CardInfo, stats: RecordStats) -> dict[str, Any]:
    """What the card says, the caller's word first and the records' own record after."""
    by_source = stats.by(1)
    augmented = by_source.get("augmented", 0)
    bias_types = info.bias_type if isinstance(info.bias_type, list) else (
        [t.strip() for t in info.bias_type.split(",")] if info.bias_type else
        sorted(stats.requested_bias_types) or sorted(t for (t, s) in stats.cells if s == "augmented" and t != _NONE))
    digest = info.config_hash or (config_hash(info.config) if info.config is not None else None)
    from biasinherit import __version__

    return {
        "version": __version__,
        "records": stats.n,
        "by_source": by_source,
        "by_bias_type": stats.by(0),
        "source_records": info.source,
        "generator": info.generator or _one_or_all(stats.generators),
        "model": info.model or _one_or_all(stats.models),
        "bias_types": bias_types,
        "intensity": info.intensity if info.intensity is not None else _one_or_all(stats.intensities),
        "polarity": info.polarity or _one_or_all(stats.polarities),
        "ratio": info.ratio,
        "augmented_share": round(augmented / stats.n, 6) if stats.n else None,
        "config_hash": digest,
    }


def _cell(value: Any, empty: str = "not given") -> str:
    """A value for a Markdown table cell (one line, no column breaks)."""
    if value is None or value == [] or value == "":
        return empty
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return " ".join(str(value).split()).replace("|", "\\|")


def _body(info: CardInfo, stats: RecordStats, prov: dict[str, Any], title: str, fmt: str, name: str) -> str:
    augmented = prov["by_source"].get("augmented", 0)
    lines = [f"# {title}", ""]
    if info.description:
        lines += [info.description.strip(), ""]
    lines += [
        f"{stats.n} record{'' if stats.n == 1 else 's'} in the biasinherit record schema, written by "
        f"biasinherit {prov['version']}.",
        "",
    ]
    if augmented:
        lines += [
            f"**{augmented} of them are augmented**: written by a generator that may have been asked to carry "
            "social bias, to study bias inheritance (the bias a model picks up when fine-tuned on LLM-generated "
            "data; Li et al., arXiv 2502.04419). They can hold stereotypes on purpose. Measure what a model "
            "inherits before training one on them.",
            "",
        ]
    share = f"{prov['augmented_share']:.4g} ({augmented} of {stats.n})" if stats.n else "no records"
    generator = prov["generator"] or ("none: original records only" if not augmented else "not recorded")
    stereotypes = any("stereotype" in str(t) for t in prov["bias_types"] or [])
    polarity_unset = "not given" if stereotypes else "none (it applies to stereotypes)"
    lines += [
        "## Provenance", "",
        "| | |", "| --- | --- |",
        f"| source records | {_cell(prov['source_records'])} |",
        f"| generator | {_cell(generator)} |",
        f"| model | {_cell(prov['model'], 'none' if prov['generator'] in (None, 'builtin') else 'not recorded')} |",
        f"| bias type(s) | {_cell(prov['bias_types'], 'none')} |",
        f"| intensity | {_cell(prov['intensity'])} |",
        f"| polarity | {_cell(prov['polarity'], polarity_unset)} |",
        f"| bias ratio | {_cell(prov['ratio'])} |",
        f"| augmented share (counted) | {share} |",
        f"| biasinherit version | {prov['version']} |",
        f"| config hash | {_cell(prov['config_hash'] and '`' + prov['config_hash'] + '`')} |",
        "",
        "## Counts", "",
        "| bias_type | original | augmented | total |", "| --- | ---: | ---: | ---: |",
    ]
    for bias_type, total in prov["by_bias_type"].items():
        lines.append(f"| {_cell(bias_type)} | {stats.cells[(bias_type, 'original')]} | "
                     f"{stats.cells[(bias_type, 'augmented')]} | {total} |")
    lines += [
        f"| **total** | {prov['by_source'].get('original', 0)} | {augmented} | {stats.n} |", "",
        f"`{_NONE}`: no bias type (original records, plain augmentation, or the unbiased share of a request).", "",
        "## Fields", "",
        "`id`, `prompt` (null for plain text), `response`, `source` (`original` or `augmented`), `bias_type`, "
        "`groups` (`attribute:group` strings), `spans` (`{start, end, kind}` character spans in `response` that "
        "carry the bias), `label`, `meta` (anything else; generated records hold their generator, its arguments "
        "and the request under `meta.generation`). "
        + ("In this format `groups`, `spans` and `meta` are JSON strings." if fmt == "csv" else
           "`meta` is a JSON string (its keys differ between records); `groups` and `spans` are lists."
           if fmt in ("parquet", "hf") else ""),
        "",
        "## Loading", "", "```python",
        "from biasinherit.records import read_records",
        "",
        f"records = read_records({name!r})  # a RecordList; records.to_pandas() for a DataFrame",
    ]
    if fmt == "hf":
        lines += ["", "import datasets", "", f"ds = datasets.load_from_disk({name!r})"]
    elif fmt == "parquet":
        lines += ["", "import pandas as pd", "", f"frame = pd.read_parquet({name!r})"]
    lines += ["```", ""]
    if info.config is not None:
        lines += ["## Config", "", "```json", json.dumps(info.config, indent=2, sort_keys=True, default=str),
                  "```", ""]
    return "\n".join(lines)


def _card_text(metadata: dict[str, Any], body: str) -> str:
    try:
        from huggingface_hub import DatasetCard, DatasetCardData
    except ImportError:  # huggingface_hub comes with datasets, but a JSONL or Parquet card needs neither
        import yaml

        return f"---\n{yaml.safe_dump(metadata, sort_keys=False, allow_unicode=True)}---\n\n{body}"
    data = DatasetCardData(**metadata)
    return str(DatasetCard(f"---\n{data.to_yaml()}\n---\n\n{body}"))


def render_card(info: CardInfo, stats: RecordStats, *, name: str, fmt: str = "hf") -> str:
    """The text of a dataset card (``README.md``) for records counted in ``stats``.

    ``name`` is the folder's or file's name (the default title and the loading example), ``fmt``
    the format they were written in.
    """
    prov = _provenance(info, stats)
    tags = ["biasinherit", "bias"] + (["synthetic"] if prov["by_source"].get("augmented") else [])
    metadata: dict[str, Any] = {
        "license": info.license or "unknown",
        "language": [info.language] if isinstance(info.language, str) else list(info.language),
        "size_categories": [size_category(stats.n)],
        "task_categories": ["text-generation"],
        "tags": tags,
    }
    if info.pretty_name:
        metadata["pretty_name"] = info.pretty_name
    metadata["biasinherit"] = prov
    return _card_text(metadata, _body(info, stats, prov, info.pretty_name or name, fmt, name))
