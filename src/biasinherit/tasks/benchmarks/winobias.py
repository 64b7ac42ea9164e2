"""WinoBias (Zhao et al. 2018) onto ``coref``: the bracketed text format.

A line is ``N sentence`` where ``[...]`` marks the gold mention and its pronoun(s). The other
occupation is the ``the <occupation>`` phrase outside the brackets (from the benchmark's
occupation lists when they sit beside the file, else the first ``the <word>``). Files whose name
starts with ``pro_`` or ``anti_`` say which half an item is in; a folder loads all four files.
"""

from __future__ import annotations

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

__all__ = ["WinoBiasBenchmark", "load_winobias", "parse_winobias_line"]

_LINE = re.compile(r"^\s*\d+\s+(?P<text>.+?)\s*$")
_BRACKET = re.compile(r"\[([^\]]+)\]")
_PRONOUNS = {"he", "she", "him", "her", "his", "hers", "himself", "herself", "they", "them", "their"}


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
    gold = re.sub(r"^(the|a|an)\s+", "", mention.strip(), flags=re.I)
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


def load_winobias(path: str | Path) -> list[BenchCorefItem]:
    p = Path(path)
    files = sorted(f for f in p.iterdir() if f.name.startswith(("pro_", "anti_"))) if p.is_dir() else [p]
    if not files or not all(f.is_file() for f in files):
        raise BiasInheritError("no WinoBias files (pro_*/anti_*)", path=path)
    items: list[BenchCorefItem] = []
    for f in files:
        group = "pro" if f.name.startswith("pro") else "anti" if f.name.startswith("anti") else ""
        if not group:
            raise BiasInheritError("file name must start with pro_ or anti_", path=f)
        occupations = _occupations(f.parent)
        for lineno, line in enumerate(f.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            item = parse_winobias_line(line, occupations, group)
            if item is None:
                raise BiasInheritError("expected 'N sentence' with two [bracketed] mentions and a second "
                                       "'the <occupation>'", path=f, line=lineno)
            items.append(item)
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
