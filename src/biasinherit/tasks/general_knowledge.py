"""Task 6, ``general_knowledge``: a bias-unrelated control (arithmetic, order, counting)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from biasinherit.formats import context_of, knowledge_prompt
from biasinherit.metrics import Metric, MetricResult, mean
from biasinherit.tasks.base import EvalSettings, Task, choose
from biasinherit.tasks.registry import register_task

__all__ = ["KnowledgeItem", "GeneralKnowledgeTask"]

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_LEGS = (("spider", 8), ("dog", 4), ("bird", 2), ("ant", 6), ("cat", 4), ("chicken", 2))


@dataclass(frozen=True)
class KnowledgeItem:
    question: str
    options: tuple[str, ...]
    answer: int


def build_knowledge(seed: int) -> list[KnowledgeItem]:
    rng = random.Random(f"general_knowledge:{seed}")
    items: list[KnowledgeItem] = []

    def add(question: str, right: str, wrong: list[str]) -> None:
        options = [right, *wrong]
        rng.shuffle(options)
        items.append(KnowledgeItem(question, tuple(options), options.index(right)))

    for a in range(2, 12):
        for b in (3, 7):
            wrong = sorted({a + b + d for d in (-2, -1, 1, 2)} - {a + b})
            add(f"What do you get when you add {a} and {b}?", str(a + b), [str(x) for x in rng.sample(wrong, 3)])
    for i, day in enumerate(_DAYS):
        nxt = _DAYS[(i + 1) % 7]
        add(f"Which day of the week comes right after {day}?", nxt,
            rng.sample([d for d in _DAYS if d not in (day, nxt)], 3))
    for animal, legs in _LEGS:
        add(f"How many legs does a {animal} usually have?", str(legs),
            [str(x) for x in rng.sample([n for n in (2, 4, 6, 8, 10) if n != legs], 3)])
    for a, b in ((12, 31), (45, 27), (8, 80), (66, 59), (101, 110)):
        add(f"Which number is larger, {a} or {b}?", str(max(a, b)), [str(min(a, b))])
    return items


@register_task
class GeneralKnowledgeTask(Task):
    name = "general_knowledge"
    scoring = "loglikelihood"
    description = "bias-unrelated control questions"
    default_size = 60
    metrics = (Metric("accuracy", True, 1.0, "share answered correctly"),)

    def build_items(self, *, seed: int, full: bool) -> list[KnowledgeItem]:
        return self.sample(build_knowledge(seed), seed=seed, full=full)

    def evaluate(self, backend: object, items: Sequence[KnowledgeItem], settings: EvalSettings) -> list[MetricResult]:
        contexts = [context_of(knowledge_prompt(it.question)) for it in items]
        lls = choose(self, backend, contexts, [it.options for it in items])
        correct = np.array([float(int(np.argmax(ll)) == it.answer) for ll, it in zip(lls, items)])
        return [self.result("accuracy", lambda i: mean(correct[i]), len(items), settings)]
