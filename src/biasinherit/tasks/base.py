"""The task contract: data, prompt format, scoring mode, metrics.

A task builds its items (the built-in data, from the taxonomy with a seed, or a benchmark's
rows), scores them with a backend (option log-likelihood or generation then parsing), and turns
per-item outcomes into :class:`~biasinherit.metrics.MetricResult` rows through declared
:class:`~biasinherit.metrics.Metric` s.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np

from biasinherit.errors import BiasInheritError
from biasinherit.metrics import Metric, MetricResult, measure

__all__ = ["EvalSettings", "Scoring", "Task", "TaskLimit", "check_limit", "choose", "parse_limit"]

Scoring = Literal["loglikelihood", "generation"]
TaskLimit = int | Mapping[str, int] | None  # items per task: one number, or per task name


def check_limit(limit: Any, field: str, known: Sequence[str] | None = None) -> TaskLimit:
    """``limit`` as :class:`EvalSettings` takes it: None, an integer >= 1, or a mapping of task
    names to integers >= 1 (tasks it does not name keep their size). ``known``: the task names
    the mapping may use. Raises :class:`BiasInheritError` naming ``field``."""
    from biasinherit.limits import MAX_TASK_LIMIT

    def whole(value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise BiasInheritError(f"{where} must be an integer >= 1, got {value!r}", field=field)
        if value > MAX_TASK_LIMIT:
            raise BiasInheritError(f"{where} must be at most {MAX_TASK_LIMIT:,}, got {value}", field=field)
        return value

    if limit is None:
        return None
    if isinstance(limit, Mapping):
        if not limit:
            raise BiasInheritError("a per-task limit names no task; give TASK=N pairs or one number", field=field)
        out: dict[str, int] = {}
        for name, value in limit.items():
            if known is not None and name not in known:
                raise BiasInheritError(f"limit names '{name}', which is not among the tasks run "
                                       f"({', '.join(known) or 'none'})", field=field)
            out[str(name)] = whole(value, f"the limit of '{name}'")
        return out
    return whole(limit, "limit")


def parse_limit(text: str | None, field: str = "--limit") -> TaskLimit:
    """The command line's ``--limit``: ``N`` (every task) or ``TASK=N,TASK=N``."""
    if text is None:
        return None
    text = text.strip()
    if "=" not in text:
        try:
            return check_limit(int(text), field)
        except ValueError:
            raise BiasInheritError(f"limit must be an integer or TASK=N pairs, got '{text}'", field=field) from None
    pairs: dict[str, int] = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        try:
            number = int(value)
        except ValueError:
            raise BiasInheritError(f"'{part.strip()}' is not TASK=N (N an integer)", field=field) from None
        if not sep or not name.strip():
            raise BiasInheritError(f"'{part.strip()}' is not TASK=N", field=field)
        pairs[name.strip()] = number
    return check_limit(pairs, field)


@dataclass(frozen=True)
class EvalSettings:
    """How large and how seeded an evaluation is."""

    seed: int = 0
    full: bool = False  # every template combination instead of the quick default size
    limit: TaskLimit = None  # at most this many items per task (one number, or per task name)
    n_boot: int = 200  # bootstrap resamples per metric
    protocol: str = "original"  # benchmarks: 'original' or 'lm-eval'
    chat_template: str = "auto"  # generation tasks: prompt through the chat template (auto|on|off)

    def limit_for(self, task: str) -> int | None:
        """At most this many of ``task``'s items (None: all of its seeded set)."""
        if isinstance(self.limit, Mapping):
            return self.limit.get(task)
        return self.limit


class Task(ABC):
    """One evaluation task. Subclasses declare the class attributes and two methods."""

    name: ClassVar[str]
    scoring: ClassVar[Scoring]
    description: ClassVar[str] = ""
    metrics: ClassVar[tuple[Metric, ...]]
    default_size: ClassVar[int] = 100
    # what a generation task generated in its last evaluation (prompt, output, parsed value)
    generation_log: Any = None

    @abstractmethod
    def build_items(self, *, seed: int, full: bool) -> list[Any]:
        """The built-in items (all of them when ``full``; a seeded quick sample otherwise)."""

    @abstractmethod
    def evaluate(self, backend: Any, items: Sequence[Any], settings: EvalSettings) -> list[MetricResult]:
        """Score ``items`` with ``backend`` and return one result per declared metric."""

    # ---- helpers for subclasses -----------------------------------------------------------

    def metric(self, name: str) -> Metric:
        for m in self.metrics:
            if m.name == name:
                return m
        raise KeyError(f"task {self.name} declares no metric '{name}'")

    def result(self, name: str, statistic: Callable[[np.ndarray], float], n: int,
               settings: EvalSettings, *, count: int | None = None, min_n: int = 1,
               protocol: str = "builtin") -> MetricResult:
        """``statistic`` over ``n`` resampling units (``count``: what the value rests on)."""
        return measure(self.name, self.metric(name), statistic, n, count=count, min_n=min_n,
                       seed=settings.seed, n_boot=settings.n_boot, protocol=protocol)

    def sample(self, items: list[Any], *, seed: int, full: bool) -> list[Any]:
        """A seeded sample of ``default_size`` items (all when ``full``), order kept stable."""
        if full or len(items) <= self.default_size:
            return items
        rng = random.Random(f"{self.name}:{seed}")
        keep = sorted(rng.sample(range(len(items)), self.default_size))
        return [items[i] for i in keep]

    def _require_loglikelihood(self, backend: Any, method: str = "loglikelihood") -> None:
        if not getattr(backend, "supports_loglikelihood", False) or not hasattr(backend, method):
            from biasinherit.models.openai_backend import LOGLIKELIHOOD_UNSUPPORTED

            raise BiasInheritError(LOGLIKELIHOOD_UNSUPPORTED.format(task=self.name), field="--model")

    def token_loglikelihoods(self, backend: Any, pairs: Sequence[tuple[str, str]]) -> list[Any]:
        """Per-token scores (``LoglikelihoodResult`` with ``tokens`` and ``token_logprobs``)."""
        self._require_loglikelihood(backend, "token_loglikelihoods")
        return list(backend.token_loglikelihoods(pairs))

    def loglikelihoods(self, backend: Any, pairs: Sequence[tuple[str, str]], *,
                       harness_framing: bool = False) -> list[float]:
        self._require_loglikelihood(backend)
        if harness_framing:
            return list(backend.loglikelihood(pairs, harness_framing=True))
        return list(backend.loglikelihood(pairs))


def choose(task: Task, backend: Any, contexts: Sequence[str], options: Sequence[Sequence[str]], *,
           harness_framing: bool = False) -> list[list[float]]:
    """Log-likelihood of every option of every item: ``[item][option]``."""
    pairs = [(c, o) for c, opts in zip(contexts, options) for o in opts]
    flat = task.loglikelihoods(backend, pairs, harness_framing=harness_framing)
    out: list[list[float]] = []
    k = 0
    for opts in options:
        out.append(flat[k : k + len(opts)])
        k += len(opts)
    return out
