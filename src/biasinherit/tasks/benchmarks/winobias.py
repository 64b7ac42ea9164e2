"""WinoBias (Zhao et al. 2018) onto ``coref``: the bracketed text format.

A line is ``N sentence`` where ``[...]`` marks the gold mention and its pronoun(s). The other
occupation is the ``the <occupation>`` phrase outside the brackets, found among the benchmark's
occupation lists (``{female,male}_occupations.txt``) when they sit beside the file, else among
the gold mentions of the files being loaded (every occupation is the gold mention of some line,
so multi-word ones such as "construction worker" are found), else the first ``the <word>``.
Files whose name starts with ``pro_`` or ``anti_`` say which half an item is in. A file may be
any split (``*.txt.dev``, ``*.txt.test``); a folder loads its ``pro_*``/``anti_*`` files, and
when it holds more than one split (the repository's data folder has both), only ``.test``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from biasinherit.errors import BiasInheritError
from biasinherit.metrics import MetricResult
from biasinherit.tasks.base import EvalSettings, Task
from biasinherit.tasks.benchmarks._coref_common import (
    COREF_METRICS,
    BenchCorefItem,
    pro_anti_results,
    score_coref_benchmark,
)
from biasinherit.tasks.benchmarks._files import describe_kind, sniff, wrong_kind

__all__ = ["WinoBiasBenchmark", "load_winobias", "parse_winobias_line"]

_LINE = re.compile(r"^\s*\d+\s+(?P<text>.+?)\s*$")
_BRACKET = re.compile(r"\[([^\]]+)\]")
_PRONOUNS = {"he", "she", "him", "her", "his", "hers", "himself", "herself", "they", "them", "their"}
_ARTICLE = re.compile(r"^(the|a|an)\s+", flags=re.I)

log = logging.getLogger(__name__)


def _occupations(folder: Path) -> list[str]:
    out: list[str] = []
    for name in ("female_occupations.txt", "male_occupations.txt"):
        f = folder / name
        if f.is_file():
            out += [w.strip() for w in f.read_text(encoding="utf-8").splitlines() if w.strip()]
    return sorted(out, key=len, reverse=True)


def parse_winobias_line(text: str, occupations: Sequence[str], group: str) -> BenchCorefItem | None:
    m = _LINE.match(text)
    if not m:
        return None
    raw = m.group("text")
    spans = _BRACKET.findall(raw)
    pronouns = [x for x in spans if x.strip().lower() in _PRONOUNS]
    mentions = [x for x in spans if x.strip().lower() not in _PRONOUNS]
    if len(mentions) != 1 or not pronouns:  # one gold mention, one or more pronouns
        return None
    mention, pronoun = mentions[0], pronouns[0]
    sentence = _BRACKET.sub(lambda x: x.group(1), raw)
    gold = _ARTICLE.sub("", mention.strip())
    outside = _BRACKET.sub(" ", raw)
    other = None
    for occ in occupations:
        if occ.lower() != gold.lower() and re.search(rf"\b[Tt]he {re.escape(occ)}\b", outside):
            other = occ
            break
    if other is None:
        found = [w for w in re.findall(r"\b[Tt]he (\w+)", outside) if w.lower() != gold.lower()]
        if not found:
            return None
        other = found[0]
    first = sentence.lower().find(gold.lower())
    second = sentence.lower().find(other.lower())
    options = (gold, other) if first <= second else (other, gold)
    return BenchCorefItem(sentence, pronoun.strip(), options, options.index(gold), group)


def _split(f: Path) -> str:
    """``dev`` for ``pro_stereotyped_type1.txt.dev``; ``""`` when the name carries no split."""
    return f.name.rsplit(".txt.", 1)[1] if ".txt." in f.name else ""


def _files(p: Path) -> list[Path]:
    if not p.is_dir():
        return [p]
    files = sorted(f for f in p.iterdir() if f.is_file() and f.name.startswith(("pro_", "anti_")))
    splits = {_split(f) for f in files}
    if len(splits) > 1:
        if "test" not in splits:
            raise BiasInheritError(f"folder mixes WinoBias splits ({', '.join(sorted(splits))}); "
                                   "pass one file or a folder holding one split", path=p)
        log.info("%s holds several WinoBias splits; loading the .test files", p)
        files = [f for f in files if _split(f) == "test"]
    return files


def _gold_mentions(lines: Sequence[str]) -> list[str]:
    """The bracketed non-pronoun mentions, without article: the occupations when no list is at hand."""
    out: set[str] = set()
    for text in lines:
        for span in _BRACKET.findall(text):
            if span.strip().lower() not in _PRONOUNS:
                out.add(_ARTICLE.sub("", span.strip()))
    return sorted(out, key=len, reverse=True)


def load_winobias(path: str | Path) -> list[BenchCorefItem]:
    p = Path(path)
    if not p.exists():
        raise BiasInheritError("file not found", path=path)
    files = _files(p)
    if not files or not all(f.is_file() for f in files):
        raise wrong_kind("winobias", path, "no WinoBias files (pro_*, anti_*) here")
    texts: dict[Path, list[str]] = {}
    for f in files:
        if not f.name.startswith(("pro", "anti")):
            kind = sniff(f)
            found = f"this file looks like {describe_kind(kind)}" if kind in ("csv", "tsv", "jsonl", "json array") \
                else "the file name starts with neither pro_ nor anti_"
            raise wrong_kind("winobias", f, found)
        try:
            texts[f] = f.read_text(encoding="utf-8-sig").splitlines()
        except UnicodeDecodeError:
            raise BiasInheritError("not UTF-8 text", path=f) from None
    mentions = _gold_mentions([line for lines in texts.values() for line in lines])
    items: list[BenchCorefItem] = []
    for f, lines in texts.items():
        group = "pro" if f.name.startswith("pro") else "anti"
        occupations = _occupations(f.parent) or mentions
        for lineno, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            item = parse_winobias_line(line, occupations, group)
            if item is None and not items:  # the first line: probably not a WinoBias file at all
                raise wrong_kind("winobias", f, "the first line is not 'N sentence' with two [bracketed] mentions",
                                 line=lineno)
            if item is None:
                raise BiasInheritError("expected 'N sentence' with two [bracketed] mentions and a second "
                                       "'the <occupation>'", path=f, line=lineno)
            items.append(item)
    if not items:
        raise BiasInheritError("no sentences in the file(s)", path=path)
    return items


class WinoBiasBenchmark(Task):
    name = "winobias"
    scoring = "loglikelihood"
    description = "WinoBias, scored as coref"
    maps_onto = "coref"
    metrics = COREF_METRICS

    def __init__(self, protocol: str = "original") -> None:
        self.protocol = protocol

    def load(self, path: str | Path) -> list[BenchCorefItem]:
        return load_winobias(path)

    def build_items(self, *, seed: int, full: bool) -> list[BenchCorefItem]:
        raise BiasInheritError("winobias needs a file: --benchmark winobias=PATH")

    def evaluate(self, backend: object, items: Sequence[BenchCorefItem], settings: EvalSettings) -> list[MetricResult]:
        correct = score_coref_benchmark(self, backend, items, settings, self.protocol)
        pro = np.array([it.group == "pro" for it in items], dtype=bool)
        return pro_anti_results(self, correct, pro, settings, self.protocol)
