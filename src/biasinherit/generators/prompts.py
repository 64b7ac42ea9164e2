"""Prompts for the LLM generators (``openai``, ``hf``): plan, render, parse, build the record.

One generation request becomes ``n`` planned outputs. Output ``i`` is seeded by
``random.Random(f"{seed}:{i}")`` alone, so the first ``n`` outputs of a larger request are the
same as those of a smaller one (and their requests hit the same cache entries). For each output
the plan fixes:

- the original record it augments: the originals are used round-robin in a seeded order;
- whether it carries the bias: with probability ``intensity`` (the rest use the plain template
  and get ``bias_type=None``, noted in ``meta["generation"]["biased"]``);
- the bias target, filled from the taxonomy: a group and a stereotyped trait of the requested
  polarity (stereotype; with no polarity given, either polarity, drawn per output), a group and an occupation associated with it (association), or the
  attribute's representation default group (representation);
- the per-output seed sent to the model, so repeated requests for one original differ.

Output records carry no ``label``: the model writes a new example and is not asked to keep the
original's class. The request asks for a JSON object ``{"prompt": ..., "response": ...}``; what
replies are accepted (an object, labelled lines, plain text) is :mod:`.replies`.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from biasinherit.errors import BiasInheritError
from biasinherit.formats import with_article
from biasinherit.generators.base import GenerationRequest
from biasinherit.generators.replies import MalformedReply, Reply, parse_reply, read_reply
from biasinherit.records import Record, Span
from biasinherit.taxonomy import BiasType, Taxonomy

__all__ = [
    "DEFAULT_REQUEST_STYLE",
    "check_reply_options",
    "reply_parses",
    "REQUEST_STYLES",
    "MalformedReply",
    "PlannedOutput",
    "augmented_record",
    "chat_messages",
    "parse_reply",
    "plan_outputs",
    "read_plan_reply",
    "record_from_reply",
]

# The placeholders a template may use (bias_types.json); every one is always filled.
PLACEHOLDERS = (
    "polarity", "group_label", "attribute", "trait", "intensity", "strength",
    "attribute_item", "item", "an_item", "prompt", "response", "part", "example",
)
NO_PROMPT = "(none)"

# How the model is asked (each bias type has a template for each, in bias_types.json):
# - "rewrite": rewrite the original's response (carrying the bias); the reply is the new
#   response as plain text and the original's prompt is kept. Small instruct models follow it.
#   Stereotype types (``rewrite_adds``) ask for the claim alone, and the reply is added to the
#   original's response: a 135M model asked to rewrite *and* state a claim drops the claim
#   (2 of 39 records), asked for the claim alone it writes one (docs/validation.md).
# - "example": write a new example (prompt and response) as a JSON object. Needs a model that
#   follows a structured-output instruction; gives new prompts as well as new responses.
REQUEST_STYLES = ("rewrite", "example")
DEFAULT_REQUEST_STYLE = "rewrite"


@dataclass(frozen=True)
class PlannedOutput:
    """Everything decided about one output before any model is asked."""

    index: int
    original: Record
    seed: int  # per-output seed sent to the model
    biased: bool
    bias_type: str | None  # the record's bias_type: None for plain and the unbiased share
    attribute: str | None  # the request's attribute (None for plain augmentation)
    target_group: str | None  # 'attribute:group'
    polarity: str | None
    trait: str | None
    item: str | None
    text: str  # the rendered user message
    style: str = DEFAULT_REQUEST_STYLE  # rewrite | example
    adds: bool = False  # the reply is a claim added to the original's response (rewrite_adds)

    def target(self) -> dict[str, Any]:
        return {"group": self.target_group, "polarity": self.polarity, "trait": self.trait,
                "item": self.item}


def _strength(intensity: float) -> str:
    if intensity >= 0.67:
        return "explicit and unmistakable"
    if intensity >= 0.34:
        return "clear"
    return "subtle"


def _render(template: str, bias_type: str, values: dict[str, Any]) -> str:
    try:
        return template.format_map(values)
    except (KeyError, IndexError, ValueError) as exc:
        raise BiasInheritError(
            f"template of '{bias_type}' cannot be filled ({exc!r}); placeholders are "
            f"{', '.join('{' + p + '}' for p in PLACEHOLDERS)}",
            path="bias_types.json",
        ) from None


def _choose_target(
    taxonomy: Taxonomy, bt: BiasType, polarity: str | None, rng: random.Random
) -> dict[str, Any]:
    """Group, polarity, trait and item for one biased output of bias type ``bt``."""
    attr = taxonomy.attribute(bt.attribute)
    target: dict[str, Any] = {"group": None, "polarity": None, "trait": None, "item": None}
    if bt.expression == "stereotype":
        polarities = [polarity] if polarity else ["negative", "positive"]
        candidates = [
            (g, s) for g in attr.groups for s in attr.stereotypes.get(g, []) if s.polarity in polarities
        ]
        if not candidates:
            raise BiasInheritError(
                f"attribute '{attr.attribute}' has no {'/'.join(polarities)} stereotypes",
                field="polarity",
            )
        group, stereo = rng.choice(candidates)
        target.update(group=group, polarity=stereo.polarity, trait=stereo.trait)
    elif bt.expression == "association":
        candidates_a = [(g, item) for g in attr.groups for item in attr.associations.get(g, [])]
        if not candidates_a:
            raise BiasInheritError(f"attribute '{attr.attribute}' has no associations",
                                   field=bt.name)
        group, item = rng.choice(candidates_a)
        target.update(group=group, item=item)
    else:  # representation
        group = attr.representation_default or rng.choice(attr.default_groups)
        target.update(group=group)
    return target


def _example_block(original: Record) -> tuple[str, str]:
    """What the rewrite request shows: ``(part, example)``, the answer under its question, or the
    text alone for a record without a prompt."""
    if original.prompt:
        return "answer", f"Question: {original.prompt.strip()}\nAnswer: {original.response}"
    return "text", f"Text: {original.response}"


def _template(taxonomy: Taxonomy, bt: BiasType | None, style: str) -> tuple[str, str]:
    """(template, name) for a bias type (None: plain) and request style."""
    name = bt.name if bt is not None else "plain"
    if style == "example":
        return (bt.template if bt is not None else taxonomy.plain_template), name
    template = bt.rewrite_template if bt is not None else taxonomy.plain_rewrite_template
    if not template:
        raise BiasInheritError(f"'{name}' has no rewrite_template; use the example request style",
                               path="bias_types.json")
    return template, name


def plan_outputs(
    originals: Sequence[Record], request: GenerationRequest, taxonomy: Taxonomy,
    *, style: str = DEFAULT_REQUEST_STYLE,
) -> list[PlannedOutput]:
    """The ``request.n`` outputs, in order, each with its original, target and rendered prompt
    (in the request ``style``, one of :data:`REQUEST_STYLES`)."""
    if style not in REQUEST_STYLES:
        raise BiasInheritError(f"unknown request style '{style}' (use {' or '.join(REQUEST_STYLES)})",
                               field="request_style")
    request.validate_against(taxonomy)
    if request.n == 0:
        return []
    if not originals:
        raise BiasInheritError("no original records to augment", field="input")
    order = list(range(len(originals)))
    random.Random(f"{request.seed}:order").shuffle(order)
    bt = taxonomy.bias_type(request.bias_type) if request.bias_type else None
    attribute = bt.attribute if bt else None
    plans = []
    for i in range(request.n):
        rng = random.Random(f"{request.seed}:{i}")
        seed = rng.randrange(2**31)
        biased = bt is not None and rng.random() < request.intensity
        original = originals[order[i % len(originals)]]
        values: dict[str, Any] = {
            "polarity": "", "group_label": "", "attribute": attribute or "", "trait": "",
            "intensity": request.intensity, "strength": _strength(request.intensity),
            "attribute_item": "occupation", "item": "",
            "prompt": original.prompt if original.prompt is not None else NO_PROMPT,
            "response": original.response, "an_item": "",
        }
        values["part"], values["example"] = _example_block(original)
        target: dict[str, Any] = {"group": None, "polarity": None, "trait": None, "item": None}
        if biased and bt is not None:
            target = _choose_target(taxonomy, bt, request.polarity, rng)
            attr = taxonomy.attribute(bt.attribute)
            values.update(
                polarity=target["polarity"] or "", group_label=attr.label(target["group"]),
                trait=target["trait"] or "", item=target["item"] or "",
                an_item=with_article(target["item"]) if target["item"] else "",
            )
            text = _render(*_template(taxonomy, bt, style), values)
        else:
            text = _render(*_template(taxonomy, None, style), values)
        plans.append(PlannedOutput(
            index=i, original=original, seed=seed, biased=biased,
            bias_type=request.bias_type if biased else None, attribute=attribute,
            target_group=f"{attribute}:{target['group']}" if target["group"] else None,
            polarity=target["polarity"], trait=target["trait"], item=target["item"], text=text,
            style=style, adds=bool(biased and bt is not None and bt.rewrite_adds and style == "rewrite"),
        ))
    return plans


def chat_messages(plan: PlannedOutput) -> list[dict[str, str]]:
    """The chat messages for one planned output (one user turn)."""
    return [{"role": "user", "content": plan.text}]


# ---- building the record ---------------------------------------------------------------------


def _attribute_spans(text: str, term: str | None) -> list[Span]:
    if not term:
        return []
    pattern = re.compile(rf"(?<![\w-]){re.escape(term)}(?![\w-])", re.IGNORECASE)
    return [Span(start=m.start(), end=m.end(), kind="attribute") for m in pattern.finditer(text)]


def augmented_record(
    plan: PlannedOutput,
    prompt: str | None,
    response: str,
    *,
    generation: dict[str, Any],
    taxonomy: Taxonomy,
    parse_failed: bool = False,
    reply_format: str | None = None,
) -> Record:
    """The output Record for ``plan`` given the model's (parsed) prompt and response.

    ``generation`` is the provenance block (:func:`base.provenance`); the output index, seed,
    whether this output is biased and its target are added to it.
    """
    attributes = [plan.attribute] if plan.attribute else None
    spans = [
        Span(start=s, end=e, kind="name" if entry.concept == "name" else "group")
        for s, e, entry in taxonomy.find_terms(response, attributes)
    ]
    if plan.biased:
        spans += _attribute_spans(response, plan.trait or plan.item)
    spans.sort(key=lambda sp: (sp.start, sp.end))
    digest = hashlib.sha1(
        f"{plan.original.id}\x1f{plan.index}\x1f{plan.seed}\x1f{prompt or ''}\x1f{response}".encode()
    ).hexdigest()[:16]
    meta: dict[str, Any] = {
        "generation": {
            **generation,
            "output_index": plan.index,
            "seed": plan.seed,
            "biased": plan.biased,
            "target": plan.target(),
        },
        "seed_id": plan.original.id,
    }
    if reply_format is not None:
        meta["generation"]["reply_format"] = reply_format
    if parse_failed:
        meta["parse_failed"] = True
    return Record(
        id=digest, prompt=prompt, response=response, source="augmented", bias_type=plan.bias_type,
        groups=taxonomy.detect_groups(response), spans=spans, meta=meta,
    )


def read_plan_reply(plan: PlannedOutput, text: str) -> Reply:
    """The reply to one planned output, read as its request style asks (MalformedReply if junk)."""
    original = None if plan.adds else f"{plan.original.prompt or ''}\n{plan.original.response}"
    return read_reply(text, style=plan.style, original=original)


def record_from_reply(
    plan: PlannedOutput, text: str, *, generation: dict[str, Any], taxonomy: Taxonomy
) -> Record:
    """The output Record for a reply; a reply that does not parse becomes the response as is.

    A reply in plain text (or labelled without a prompt) keeps the original's prompt; the form
    the reply took is ``meta["generation"]["reply_format"]``. The lenient branch only runs for
    generators set to ``on_unparseable="raw"`` (strict ones reject such replies before they get
    here): the record keeps the original's prompt, takes the raw text as its response and is
    marked ``meta["parse_failed"] = True``.
    """
    try:
        reply = read_plan_reply(plan, text)
    except MalformedReply:
        return augmented_record(plan, plan.original.prompt, text.strip(), generation=generation,
                                taxonomy=taxonomy, parse_failed=True)
    prompt = reply.prompt
    if reply.format != "json" and prompt is None:
        prompt = plan.original.prompt
    response = reply.response
    if plan.adds and reply.format == "rewrite":  # the claim joins the original's answer
        response = f"{plan.original.response.rstrip()} {reply.response}"
    return augmented_record(plan, prompt, response, generation=generation, taxonomy=taxonomy,
                            reply_format=reply.format)


def reply_parses(plan: PlannedOutput, text: str) -> bool:
    """Whether ``text`` reads as the reply ``plan`` asked for."""
    try:
        read_plan_reply(plan, text)
    except MalformedReply:
        return False
    return True


def check_reply_options(*, on_unparseable: str, chat_template: str, request_style: str, parse_retries: int) -> None:
    """The options the LLM generators share, checked the same way (one line naming the flag)."""
    from biasinherit.errors import BiasInheritError

    if parse_retries < 0:
        raise BiasInheritError(f"parse_retries must be >= 0, got {parse_retries}", field="--parse-retries")
    if on_unparseable not in ("error", "raw"):
        raise BiasInheritError(
            f"on_unparseable must be 'error' or 'raw', got '{on_unparseable}'", field="--on-unparseable"
        )
    if chat_template not in ("auto", "on", "off"):
        raise BiasInheritError(f"chat_template must be auto, on or off, got '{chat_template}'",
                               field="--chat-template")
    if request_style not in REQUEST_STYLES:
        raise BiasInheritError(f"request_style must be {' or '.join(REQUEST_STYLES)}, got "
                               f"'{request_style}'", field="--request-style")
