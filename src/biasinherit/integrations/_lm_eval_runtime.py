"""What lm-evaluation-harness runs for an exported task folder (its ``utils.py`` imports this).

Only the harness imports this module, so it imports ``lm_eval`` at the top (lm-eval is the
``bench`` extra). The pieces, in the order the harness meets them:

- :func:`load_docs` (the task's ``custom_dataset``): reads the folder's items and frames every
  request for the model the run names. The harness hands its ``--model_args`` to a task as
  metadata, so ``pretrained=DIR`` (or ``tokenizer=DIR``, or ``--metadata
  '{"biasinherit_model": "DIR"}'``) tells it which model folder to frame for, exactly as
  ``biasinherit evaluate --model DIR`` frames: the BOS token where the model was trained with
  one (written as text, which the harness then encodes without adding special tokens), the
  token mitigation's ``eval_prefix``, and for generation tasks the prompt format (the chat
  template when the tokenizer has one, as ``--chat-template auto``; ``--metadata
  '{"chat_template": "off"}'`` or ``"on"`` as the flag). Every framed text is checked to encode
  to the tokens our scorer feeds the model.
- :class:`BiasinheritTask`: a ``ConfigurableTask`` whose requests are the item's own requests
  (a sentiment pair is four (context, continuation) pairs with two contexts; a salary item is
  one prompt per counterfactual variant, each with the budget and stop strings of its format),
  which the YAML keys of a plain task cannot express.
- :func:`process_results` passes each item's answers on; :func:`aggregation` replays all of
  them through the task's own ``evaluate`` (:class:`~._task_requests.ReplayBackend`), so every
  metric, pairs and counterfactual groups included, is computed by our code.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from lm_eval.api.instance import Instance  # type: ignore[import-untyped]
from lm_eval.api.task import ConfigurableTask  # type: ignore[import-untyped]

from biasinherit.errors import BiasInheritError
from biasinherit.integrations._task_requests import ReplayBackend, decode_item

__all__ = ["BiasinheritTask", "Framing", "aggregation", "load_docs", "model_framing", "process_results"]

# where the model folder to frame for is named, first found wins (biasinherit_model: --metadata;
# peft: an adapter folder, which holds our metadata; tokenizer / model: local-completions)
MODEL_KEYS = ("biasinherit_model", "peft", "pretrained", "tokenizer", "model")
NO_MODEL = ("lm-eval named no model folder to frame the biasinherit prompts for: pass "
            "--model_args pretrained=DIR (hf) or tokenizer=DIR (local-completions), or "
            "--metadata '{\"biasinherit_model\": \"DIR\"}'")


@dataclass(frozen=True)
class Framing:
    """How ``biasinherit evaluate`` frames text for one model, written as text for the harness."""

    tokenizer: Any
    eval_prefix: str  # the token mitigation's tag ('' without)
    add_bos: bool  # the model was trained with a BOS token before every sequence
    prefix_id: int  # that token (BOS, else EOS): also what an empty context is conditioned on
    prefix_text: str
    chat: bool  # generation prompts go through the chat template
    add_bos_token: bool | None  # the harness's own model_arg, if given

    def context(self, context: str) -> str:
        """A log-likelihood context as the harness must get it (empty stays empty: the harness
        then conditions on the same prefix token our scorer does)."""
        text = self.eval_prefix + context
        return self.prefix_text + text if text and self.add_bos else text

    def prompt(self, prompt: str) -> str:
        if self.chat:
            return self.eval_prefix + self.render_chat(prompt)
        return (self.prefix_text if self.add_bos else "") + self.eval_prefix + prompt

    def render_chat(self, message: str) -> str:
        """One user turn through the chat template, ending where the reply starts (as
        ``HFBackend.render_chat``)."""
        return str(self.tokenizer.apply_chat_template([{"role": "user", "content": message}],
                                                      add_generation_prompt=True, tokenize=False))


def _model_folder(metadata: dict[str, Any]) -> str:
    for key in MODEL_KEYS:
        value = metadata.get(key)
        if isinstance(value, str) and value:
            return value.removeprefix("hf:")
    raise BiasInheritError(NO_MODEL)


def _flag(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes")


def model_framing(metadata: dict[str, Any]) -> Framing:
    """The framing of the model the harness run names (see the module docstring)."""
    from biasinherit.models.hf import load_hf_tokenizer
    from biasinherit.models.io import read_metadata
    from biasinherit.tasks._generation import use_chat_template

    folder = _model_folder(metadata)
    tokenizer = load_hf_tokenizer(folder)
    meta = read_metadata(folder) if Path(folder).is_dir() else None
    add_bos = bool(meta.add_bos) if meta is not None else tokenizer.bos_token_id is not None
    prefix_id = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
    if prefix_id is None:
        raise BiasInheritError("the tokenizer has neither a BOS nor an EOS token to condition on", path=folder)
    prefix_text = tokenizer.decode([prefix_id])
    if add_bos and tokenizer(prefix_text, add_special_tokens=False)["input_ids"] != [prefix_id]:
        raise BiasInheritError(f"the BOS token {prefix_text!r} does not encode back to itself as text, so the "
                               "harness cannot be given it in the prompt", path=folder)
    mode = str(metadata.get("chat_template", "auto"))
    chat = use_chat_template(mode, SimpleNamespace(has_chat_template=bool(getattr(tokenizer, "chat_template", None)),
                                                   name=folder))
    return Framing(tokenizer=tokenizer, eval_prefix=meta.eval_prefix if meta is not None else "", add_bos=add_bos,
                   prefix_id=int(prefix_id), prefix_text=prefix_text, chat=chat,
                   add_bos_token=_flag(metadata.get("add_bos_token")))


# ---- the same tokens on both sides ----------------------------------------------------------


def _ids(tokenizer: Any, texts: Sequence[str], special: bool | None) -> list[list[int]]:
    if not texts:
        return []
    kwargs = {} if special is None else {"add_special_tokens": special}
    return [list(x) for x in tokenizer(list(texts), **kwargs)["input_ids"]]


def _harness_ids(f: Framing, texts: Sequence[str], marker: str | None) -> list[list[int]]:
    """Token ids lm-eval's ``hf`` model encodes ``texts`` to: no special tokens added to a text
    that starts with ``marker`` (the prefix token's text when it scores, the tokenizer's BOS
    text when it generates), else as its ``add_bos_token`` model_arg says (unset: the
    tokenizer's default)."""
    marked = [bool(marker) and t.startswith(marker or "") for t in texts]
    plain = iter(_ids(f.tokenizer, [t for t, m in zip(texts, marked) if not m], f.add_bos_token))
    bare = iter(_ids(f.tokenizer, [t for t, m in zip(texts, marked) if m], False))
    return [next(bare) if m else next(plain) for m in marked]


def _check(task: str, f: Framing, harness: Sequence[str], ours: Sequence[list[int]], marker: str | None) -> None:
    for text, got, want in zip(harness, _harness_ids(f, harness, marker), ours):
        if got != want:
            raise BiasInheritError(
                f"task {task}: lm-eval would encode {text[:60]!r}... to other tokens than biasinherit evaluate "
                "does with this tokenizer; drop add_bos_token from --model_args (or set add_bos_token=False)")


def _split(context: str, continuation: str) -> tuple[str, str]:
    """Trailing whitespace of a context moves to its continuation, on both sides."""
    n = len(context) - len(context.rstrip())
    return (context[:-n], context[-n:] + continuation) if n and context else (context, continuation)


def _check_loglikelihood(task: str, f: Framing, pairs: Sequence[tuple[str, str]]) -> None:
    """The framed context and context + continuation encode to what ``CausalLMScorer.encode_pairs``
    builds: the prefix token (when the model takes one, and once) and the tokenizer's own encoding."""
    harness, bare = [], []
    for context, continuation in pairs:
        if not (f.eval_prefix + context):
            continue  # both condition on the prefix token and encode the continuation alone
        c, x = _split(f.eval_prefix + context, continuation)
        bare.extend([c, c + x])
        harness.extend([f.prefix_text + c, f.prefix_text + c + x] if f.add_bos else [c, c + x])
    ours = _ids(f.tokenizer, bare, None)
    if f.add_bos:
        ours = [ids if ids[:1] == [f.prefix_id] else [f.prefix_id, *ids] for ids in ours]
    _check(task, f, harness, ours, f.prefix_text)


def _check_prompts(task: str, f: Framing, prompts: Sequence[str]) -> None:
    """Framed prompts encode to what ``HFBackend.generate`` feeds: the chat rendering as it is, or
    the prefix token (when the model takes one) and the tokenizer's encoding of the prompt."""
    if f.chat:
        ours = _ids(f.tokenizer, [f.prompt(p) for p in prompts], False)
    else:
        ours = [([f.prefix_id] if f.add_bos else []) + ids
                for ids in _ids(f.tokenizer, [f.eval_prefix + p for p in prompts], None)]
        if f.add_bos and any(ids[:2] == [f.prefix_id, f.prefix_id] for ids in ours):
            raise BiasInheritError(
                f"task {task}: this tokenizer adds its BOS token itself and biasinherit evaluate adds another "
                "before a corpus-format generation prompt; the export does not copy the doubled token (pass "
                "--metadata '{\"chat_template\": \"on\"}' to ask through the chat template, or leave out the "
                "generation tasks)")
    _check(task, f, [f.prompt(p) for p in prompts], ours, f.tokenizer.bos_token)


# ---- the harness's hooks --------------------------------------------------------------------


def load_docs(folder: Path, *, biasinherit_task: str, biasinherit_items: str,
              biasinherit_styles: dict[str, Any] | None = None, **metadata: Any) -> dict[str, Any]:
    """The task's items, each with its requests framed for the model the run names."""
    import datasets  # type: ignore[import-untyped]

    f = model_framing(metadata)
    path = Path(folder) / biasinherit_items
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    docs = []
    if biasinherit_styles is None:  # log-likelihood
        pairs = [(c, x) for row in rows for c, x in row["requests"]]
        _check_loglikelihood(biasinherit_task, f, pairs)
        for row in rows:
            framed = [{"context": f.context(c), "continuation": x} for c, x in row["requests"]]
            docs.append({"task": biasinherit_task, "index": row["index"], "item": row["item"],
                         "requests": [{"context": c, "continuation": x} for c, x in row["requests"]],
                         "framed_requests": framed, "text": framed[0]["context"], "target": ""})
    else:
        fmt = "chat" if f.chat else "corpus"
        style = biasinherit_styles[fmt]
        _check_prompts(biasinherit_task, f, [p for row in rows for p in row["prompts"][fmt]])
        for row in rows:
            framed_prompts = [f.prompt(p) for p in row["prompts"][fmt]]
            docs.append({"task": biasinherit_task, "index": row["index"], "item": row["item"], "format": fmt,
                         "prompts": list(row["prompts"][fmt]), "framed_prompts": framed_prompts,
                         "until": list(style["stop"]), "max_gen_toks": int(style["max_new_tokens"]),
                         "text": framed_prompts[0], "target": ""})
    return {"test": datasets.Dataset.from_list(docs)}


class BiasinheritTask(ConfigurableTask):
    """A YAML task whose requests are each item's own (framed by :func:`load_docs`)."""

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        config = {k: v for k, v in (config or {}).items() if k != "class"}
        super().__init__(config=config)

    def construct_requests(self, doc: dict[str, Any], ctx: Any, **kwargs: Any) -> list[Instance]:
        # the prompt is the item's own, framed for the model: the harness's chat template and
        # few-shot context (ctx) are not ours to add
        kwargs.pop("apply_chat_template", None)
        kwargs.pop("chat_template", None)
        if "framed_requests" in doc:
            return [Instance(request_type="loglikelihood", doc=doc, arguments=(r["context"], r["continuation"]),
                             idx=i, **kwargs) for i, r in enumerate(doc["framed_requests"])]
        gen = {"until": list(doc["until"]), "max_gen_toks": int(doc["max_gen_toks"]), "do_sample": False,
               "temperature": 0.0}
        return [Instance(request_type="generate_until", doc=doc, arguments=(p, dict(gen)), idx=i, **kwargs)
                for i, p in enumerate(doc["framed_prompts"])]


def _metric_names(task: str) -> list[str]:
    from biasinherit.tasks.registry import get_task

    return [m.name for m in get_task(task).metrics]


def process_results(doc: dict[str, Any], results: list[Any]) -> dict[str, Any]:
    """Every metric of the item's task gets the item and its answers; the aggregation computes."""
    if "framed_requests" in doc:
        answers: list[Any] = [float(r[0]) for r in results]
        requests = [[r["context"], r["continuation"]] for r in doc["requests"]]
    else:
        answers = [str(r) for r in results]
        requests = list(doc["prompts"])
    payload = {"index": int(doc["index"]), "item": doc["item"], "format": doc.get("format", ""),
               "requests": requests, "results": answers}
    return {name: payload for name in _metric_names(doc["task"])}


_MEMO: dict[tuple[str, str], dict[str, float]] = {}


def _task_values(task_name: str, payloads: Sequence[dict[str, Any]]) -> dict[str, float]:
    """All metrics of the task on the items the harness ran, by the task's own ``evaluate``."""
    from biasinherit.tasks.base import EvalSettings
    from biasinherit.tasks.registry import get_task

    rows = sorted(payloads, key=lambda p: p["index"])
    key = (task_name, json.dumps(rows, sort_keys=True))
    if key in _MEMO:
        return _MEMO[key]
    task = get_task(task_name)
    items = [decode_item(p["item"]) for p in rows]
    if task.scoring == "loglikelihood":
        backend = ReplayBackend(task_name, pairs=[(c, x) for p in rows for c, x in p["requests"]],
                                loglikelihoods=[ll for p in rows for ll in p["results"]])
        settings = EvalSettings(n_boot=0)
    else:
        chat = bool(rows) and rows[0]["format"] == "chat"
        backend = ReplayBackend(task_name, prompts=[q for p in rows for q in p["requests"]],
                                outputs=[o for p in rows for o in p["results"]], has_chat_template=chat)
        settings = EvalSettings(n_boot=0, chat_template="on" if chat else "off")
    values = {r.metric: float(r.value) for r in task.evaluate(backend, items, settings)}
    _MEMO.clear()  # one task's metrics are asked for one after another
    _MEMO[key] = values
    return values


def aggregation(task: str, metric: str) -> Callable[[list[dict[str, Any]]], float]:
    """The harness's aggregation for one metric of one task."""

    def aggregate(payloads: list[dict[str, Any]]) -> float:
        return _task_values(task, payloads)[metric]

    aggregate.__name__ = f"{task}_{metric}"
    return aggregate
