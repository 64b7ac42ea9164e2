"""How a generation task prompts a model, and the record of what the model wrote.

Each generation task has two prompt formats, chosen per evaluation:

- ``corpus``: the built-in corpus's own format (:mod:`biasinherit.formats`), continued as raw
  text. This is how a model trained on the corpus (the tiny model) is asked: it learned
  "...\\nSalary:\\n$52,000 a year" and answers in kind, so short token budgets suffice.
- ``chat``: an instruction sent as one user turn through the model's chat template (for an
  OpenAI-compatible endpoint: chat messages, the server applies the template). This is how a
  user prompts an instruct model. Budgets leave room for a sentence around the answer, and stop
  strings end the reply at the end of the first answer where the format allows it.

``--chat-template`` (``EvalSettings.chat_template``) decides: ``auto`` uses ``chat`` when the
model has a chat template (tiny models have none), ``on`` requires one, ``off`` never uses it.
Every task records the format, template use, token budget and stop strings it used
(:meth:`PromptStyle.describe`), and keeps each generation (prompt, output, parsed value) so the
evaluation can save them beside its results (``generations/<task>.jsonl``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from biasinherit.errors import BiasInheritError

__all__ = ["CHAT_TEMPLATE_MODES", "GenerationLog", "PromptStyle", "TaskPrompting", "use_chat_template"]

CHAT_TEMPLATE_MODES = ("auto", "on", "off")


@dataclass(frozen=True)
class PromptStyle:
    """One prompt format of a task: how many tokens an answer may take and where it stops."""

    format: str  # "corpus" or "chat"
    max_new_tokens: int
    stop: tuple[str, ...] = ()
    temperature: float = 0.0

    def describe(self, chat_template: str) -> dict[str, Any]:
        return {"format": self.format, "chat_template": chat_template,
                "chat_template_used": self.format == "chat", "max_new_tokens": self.max_new_tokens,
                "stop": list(self.stop), "temperature": self.temperature}


@dataclass(frozen=True)
class TaskPrompting:
    """A task's two formats."""

    corpus: PromptStyle
    chat: PromptStyle

    def choose(self, mode: str, backend: Any) -> PromptStyle:
        return self.chat if use_chat_template(mode, backend) else self.corpus


def use_chat_template(mode: str, backend: Any) -> bool:
    """Whether to prompt ``backend`` through its chat template under ``mode`` (auto|on|off)."""
    if mode not in CHAT_TEMPLATE_MODES:
        raise BiasInheritError(f"chat template must be auto, on or off, got '{mode}'", field="--chat-template")
    if mode == "off":
        return False
    available = bool(getattr(backend, "has_chat_template", False))
    if mode == "on" and not available:
        raise BiasInheritError(
            f"--chat-template on, but the model {getattr(backend, 'name', '')!r} has no chat template "
            "(use auto or off)", field="--chat-template")
    return available


@dataclass
class GenerationLog:
    """What one task generated: the style it used and one row per output."""

    task: str
    style: dict[str, Any] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, prompts: Sequence[str], outputs: Sequence[str], parsed: Sequence[Any],
            extra: Sequence[dict[str, Any]] | None = None) -> None:
        for k, (p, o, v) in enumerate(zip(prompts, outputs, parsed)):
            row: dict[str, Any] = {"index": len(self.rows), "prompt": p, "output": o, "parsed": v}
            if extra is not None:
                row.update(extra[k])
            self.rows.append(row)


def generate(task: Any, backend: Any, prompting: TaskPrompting, corpus_prompts: Sequence[str],
             chat_prompts: Sequence[str], *, mode: str, seed: int) -> tuple[list[str], list[str]]:
    """Generate one answer per prompt in the chosen format; returns ``(prompts used, outputs)``
    and starts ``task.generation_log`` with the style."""
    style = prompting.choose(mode, backend)
    chat = style.format == "chat"
    prompts = list(chat_prompts if chat else corpus_prompts)
    kwargs: dict[str, Any] = {"max_new_tokens": style.max_new_tokens, "stop": list(style.stop),
                              "temperature": style.temperature, "seed": seed}
    if chat:
        kwargs["chat"] = True  # backends without chat support are never asked (no template)
    outputs = list(backend.generate(prompts, **kwargs))
    task.generation_log = GenerationLog(task.name, style.describe(mode))
    return prompts, outputs
