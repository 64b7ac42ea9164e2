"""What a task asks a model, item by item, and a backend that answers from answers already given.

An exported task must ask lm-evaluation-harness exactly what ``biasinherit evaluate`` asks our
own scorer, and its metrics must be the ones our task computes. Rather than restate each task's
prompt building and metric code, both come from the task itself:

- :func:`task_requests` runs the task's own ``evaluate`` on one item at a time against a
  :class:`RequestRecorder` (a backend that writes down what it is asked and answers zeros or
  empty text): the (context, continuation) pairs of a log-likelihood task, or the prompts of a
  generation task in both prompt formats with their token budget and stop strings.
- :class:`ReplayBackend` answers the task's ``evaluate`` with the log-likelihoods or texts a
  harness run produced, so the metric values come from our task code unchanged.

Items travel as JSON (:func:`encode_item`, :func:`decode_item`): the item dataclass's fields
with tuples written as lists and read back as tuples.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from biasinherit.errors import BiasInheritError
from biasinherit.tasks.base import EvalSettings, Task

__all__ = [
    "GenerationStyle",
    "ItemRequests",
    "NotExportable",
    "ReplayBackend",
    "RequestRecorder",
    "TaskRequests",
    "decode_item",
    "encode_item",
    "task_requests",
]

REPLAY_MISMATCH = ("task {task}: the harness answered other requests than the task asks for its items "
                   "(was the folder exported by another biasinherit version? export it again)")


class NotExportable(Exception):
    """A task whose requests an lm-eval task cannot carry (the reason is the message)."""


@dataclass
class RequestRecorder:
    """A backend that records every request and answers 0.0 log-likelihoods and empty texts."""

    has_chat_template: bool = False
    name: str = "request-recorder"
    supports_loglikelihood: bool = True
    pairs: list[tuple[str, str]] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)
    generate_kwargs: list[dict[str, Any]] = field(default_factory=list)

    def loglikelihood(self, pairs: Sequence[tuple[str, str]], **_: Any) -> list[float]:
        self.pairs.extend((str(c), str(x)) for c, x in pairs)
        return [0.0] * len(pairs)

    def generate(self, prompts: Sequence[str], **kwargs: Any) -> list[str]:
        self.prompts.extend(prompts)
        self.generate_kwargs.append(kwargs)
        return [""] * len(prompts)

    def render_chat(self, message: str) -> str:
        return message

    def provenance(self) -> dict[str, Any]:
        return {"backend": self.name}


@dataclass(frozen=True)
class GenerationStyle:
    """How a generation task's prompts are answered in one prompt format (greedy)."""

    max_new_tokens: int
    stop: tuple[str, ...]


@dataclass(frozen=True)
class ItemRequests:
    """One item's requests: (context, continuation) pairs, or prompts per format."""

    item: Any
    pairs: tuple[tuple[str, str], ...] = ()
    prompts: dict[str, tuple[str, ...]] = field(default_factory=dict)  # format -> prompts


@dataclass(frozen=True)
class TaskRequests:
    """A task's scoring mode, its items' requests and (generation) each format's style."""

    task: str
    scoring: str  # loglikelihood | generation
    items: list[ItemRequests]
    styles: dict[str, GenerationStyle] = field(default_factory=dict)  # format -> style


def _run(task: Task, items: Sequence[Any], *, chat: bool, seed: int) -> RequestRecorder:
    recorder = RequestRecorder(has_chat_template=chat)
    settings = EvalSettings(seed=seed, n_boot=0, chat_template="on" if chat else "off")
    with warnings.catch_warnings():  # one item leaves most metrics without data: NaN, as intended
        warnings.simplefilter("ignore", RuntimeWarning)
        task.generation_log = None
        task.evaluate(recorder, list(items), settings)
    return recorder


def _style(recorder: RequestRecorder) -> GenerationStyle:
    reasons = []
    kwargs = recorder.generate_kwargs
    temperature = max((float(k.get("temperature", 0.0)) for k in kwargs), default=0.0)
    if temperature > 0:
        reasons.append(f"it samples (temperature {temperature:g}) with biasinherit's own seeded sampler, and "
                       "lm-eval's sampling draws other tokens")
    if recorder.pairs:
        reasons.append("it also scores text by log-likelihood after generating (perplexity of its own "
                       "outputs), a second request type that one lm-eval task cannot chain to the first")
    if len(kwargs) != 1:
        reasons.append(f"it generates in {len(kwargs)} calls instead of one")
    if reasons:
        raise NotExportable("; ".join(reasons))
    return GenerationStyle(int(kwargs[0]["max_new_tokens"]), tuple(kwargs[0].get("stop") or ()))


def task_requests(task: Task, items: Sequence[Any], *, seed: int = 0) -> TaskRequests:
    """Every item's requests, as the task's own ``evaluate`` makes them.

    Raises :class:`NotExportable` for a task whose requests are not one lm-eval request type
    answered greedily (it samples, or it scores its own generations)."""
    formats = {"corpus": False} if task.scoring == "loglikelihood" else {"corpus": False, "chat": True}
    whole = {fmt: _run(task, items, chat=chat, seed=seed) for fmt, chat in formats.items()}
    styles = {fmt: _style(rec) for fmt, rec in whole.items()} if task.scoring == "generation" else {}
    per_item: list[ItemRequests] = []
    for item in items:
        runs = {fmt: _run(task, [item], chat=chat, seed=seed) for fmt, chat in formats.items()}
        if task.scoring == "loglikelihood":
            per_item.append(ItemRequests(item, pairs=tuple(runs["corpus"].pairs)))
        else:
            per_item.append(ItemRequests(item, prompts={fmt: tuple(r.prompts) for fmt, r in runs.items()}))
    # the requests of the items one by one must be the requests of all of them together, in order:
    # the harness sends them per item and the replay gives them back in that order
    if task.scoring == "loglikelihood":
        if [p for it in per_item for p in it.pairs] != whole["corpus"].pairs:
            raise RuntimeError(f"task {task.name}: an item's requests depend on the other items")
    else:
        for fmt in formats:
            if [p for it in per_item for p in it.prompts[fmt]] != whole[fmt].prompts:
                raise RuntimeError(f"task {task.name}: an item's prompts depend on the other items")
    return TaskRequests(task.name, task.scoring, per_item, styles)


# ---- items as JSON --------------------------------------------------------------------------


def _as_tuples(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_as_tuples(v) for v in value)
    return value


def encode_item(item: Any) -> str:
    """An item dataclass as JSON (its class and its fields); checked to read back equal."""
    cls = type(item)
    text = json.dumps({"class": f"{cls.__module__}:{cls.__qualname__}", "fields": dataclasses.asdict(item)},
                      ensure_ascii=False, sort_keys=True)
    if decode_item(text) != item:
        raise RuntimeError(f"{cls.__qualname__} does not read back equal from JSON")
    return text


def decode_item(text: str) -> Any:
    data = json.loads(text)
    module, _, name = data["class"].partition(":")
    cls = getattr(importlib.import_module(module), name)
    return cls(**{k: _as_tuples(v) for k, v in data["fields"].items()})


# ---- answers given elsewhere ----------------------------------------------------------------


@dataclass
class ReplayBackend:
    """Answers a task's requests with results computed elsewhere (a harness run), in order.

    ``pairs`` / ``prompts`` are the requests the results answer; a task asking anything else
    is refused rather than given answers to other questions."""

    task: str
    pairs: list[tuple[str, str]] = field(default_factory=list)
    loglikelihoods: list[float] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    has_chat_template: bool = False
    name: str = "lm-eval"

    @property
    def supports_loglikelihood(self) -> bool:
        return bool(self.pairs)

    def loglikelihood(self, pairs: Sequence[tuple[str, str]], **_: Any) -> list[float]:
        if [(str(c), str(x)) for c, x in pairs] != self.pairs:
            raise BiasInheritError(REPLAY_MISMATCH.format(task=self.task))
        return list(self.loglikelihoods)

    def generate(self, prompts: Sequence[str], **_: Any) -> list[str]:
        if list(prompts) != self.prompts:
            raise BiasInheritError(REPLAY_MISMATCH.format(task=self.task))
        return list(self.outputs)

    def provenance(self) -> dict[str, Any]:
        return {"backend": self.name}
