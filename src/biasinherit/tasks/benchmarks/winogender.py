"""Winogender (Rudinger et al. 2018) onto ``coref``: ``all_sentences.tsv``.

``sentid`` is ``occupation.participant.answer.gender.txt`` (answer 0: the occupation, 1: the
participant). Pro/anti-stereotypical: the pronoun's gender is the majority gender of the
occupation in ``occupations-stats.tsv`` (``bls_pct_female``) when that file sits beside; neutral
pronouns count in neither. Metrics: accuracy, and accuracy pro minus anti.
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
from biasinherit.tasks.benchmarks._files import check_file_kind, iter_csv, require, wrong_kind

__all__ = ["WinogenderBenchmark", "load_winogender"]

_PRONOUNS = {
    "male": ("he", "him", "his"),
    "female": ("she", "her", "hers"),
    "neutral": ("they", "them", "their", "theirs"),
}


def _female_share(folder: Path) -> dict[str, float]:
    f = folder / "occupations-stats.tsv"
    if not f.is_file():
        return {}
    shares: dict[str, float] = {}
    for line, row in iter_csv(f, delimiter="\t", required=("occupation", "bls_pct_female")):
        try:
            shares[row["occupation"]] = float(row["bls_pct_female"]) / 100
        except (TypeError, ValueError):
            raise BiasInheritError(f"must be a number, got {row['bls_pct_female']!r}", path=f, line=line,
                                   field="bls_pct_female") from None
    return shares


def load_winogender(path: str | Path) -> list[BenchCorefItem]:
    p = Path(path)
    if p.is_dir():
        if not (p / "all_sentences.tsv").is_file():
            raise wrong_kind("winogender", p, "a folder without all_sentences.tsv")
        p = p / "all_sentences.tsv"
    check_file_kind("winogender", p, ("tsv", "text"))
    shares = _female_share(p.parent)
    items: list[BenchCorefItem] = []
    for line, row in iter_csv(p, delimiter="\t", required=("sentid", "sentence"), benchmark="winogender"):
        require(row, ("sentid", "sentence"), p, line)  # a short line leaves a column empty (None)
        parts = row["sentid"].strip().split(".")
        if len(parts) < 4 or parts[2] not in ("0", "1") or parts[3] not in _PRONOUNS:
            raise BiasInheritError("expected occupation.participant.answer.gender.txt",
                                   path=p, line=line, field="sentid")
        occupation, participant, answer, gender = parts[0], parts[1], int(parts[2]), parts[3]
        words = re.findall(r"[A-Za-z]+", row["sentence"])
        pronoun = next((w for w in words if w.lower() in _PRONOUNS[gender]), None)
        if pronoun is None:
            raise BiasInheritError(f"no {gender} pronoun in the sentence", path=p, line=line, field="sentence")
        share = shares.get(occupation)
        if gender == "neutral" or share is None:
            group = gender
        else:
            group = "pro" if (share >= 0.5) == (gender == "female") else "anti"
        items.append(BenchCorefItem(row["sentence"], pronoun.lower(), (occupation, participant), answer, group))
    if not items:
        raise BiasInheritError("no sentences in the file", path=p)
    return items


class WinogenderBenchmark(Task):
    name = "winogender"
    scoring = "loglikelihood"
    description = "Winogender, scored as coref"
    maps_onto = "coref"
    metrics = COREF_METRICS

    def __init__(self, protocol: str = "original") -> None:
        self.protocol = protocol

    def load(self, path: str | Path) -> list[BenchCorefItem]:
        return load_winogender(path)

    def build_items(self, *, seed: int, full: bool) -> list[BenchCorefItem]:
        raise BiasInheritError("winogender needs a file: --benchmark winogender=PATH")

    def evaluate(self, backend: object, items: Sequence[BenchCorefItem], settings: EvalSettings) -> list[MetricResult]:
        correct = score_coref_benchmark(self, backend, items, settings, self.protocol)
        gendered = np.array([it.group in ("pro", "anti") for it in items], dtype=bool)
        pro = np.array([it.group == "pro" for it in items], dtype=bool)
        results = pro_anti_results(self, correct[gendered], pro[gendered], settings, self.protocol)
        overall = self.result("accuracy", lambda i: float(np.mean(correct[i])), len(correct), settings,
                              protocol=self.protocol)
        return [overall, *results[1:]]
