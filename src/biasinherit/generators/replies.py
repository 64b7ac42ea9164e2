"""Reading a generator model's reply: the new example it wrote, or why it is not usable.

A *rewrite* request (the default) asks for the original's answer rewritten; the reply is the new
response as plain text (format ``rewrite``). Its first paragraph is taken, after a preamble line
such as "Here is the rewritten answer:" and without a label such as "Answer:"; a quoted text
after such a preamble is taken from inside the quotes.

An *example* request asks for a JSON object ``{"prompt": ..., "response": ...}``. Large models
write one; small instruct models often do not, so three forms are accepted, tried in this order:

- ``json``: an object with a non-empty string ``response`` (and a string or null ``prompt``),
  in a fenced block or anywhere in the text;
- ``labelled``: ``Prompt: ...`` / ``Response: ...`` lines (also ``Example response:``, the
  layout of the request itself), in any case, with or without markdown bold;
- ``plain``: the new text alone, without any wrapper. It has no prompt of its own; the record
  keeps the original's.

Junk is refused with :class:`MalformedReply`: an object whose ``response`` is not text (a nested
object), JSON-like text that holds no usable object (braces, code fences), prose about the
request itself (it names JSON, "example prompt", "training set"; for a rewrite: "rewritten",
"the original text"), refusals, and empty replies.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["MalformedReply", "Reply", "ReplyFormat", "parse_reply", "read_reply"]

ReplyFormat = Literal["json", "labelled", "plain", "rewrite"]


class MalformedReply(ValueError):
    """The model's reply does not hold a usable new example."""


@dataclass(frozen=True)
class Reply:
    prompt: str | None  # None: the reply wrote no prompt (plain text, or a prompt-less object)
    response: str
    format: ReplyFormat


_FENCE = re.compile(r"```[A-Za-z]*\s*(.*?)```", re.DOTALL)
_LABEL = re.compile(
    r"^[ \t>*_#-]*(?:(?:example|new|the)\s+)?(?P<label>prompt|instruction|response|answer)"
    r"[ \t*_]*[:：][ \t*_]*",
    re.IGNORECASE | re.MULTILINE,
)
# prose about the request instead of an example: names the protocol's own words
_ABOUT_REQUEST = re.compile(
    r"\bjson\b|\bexample (?:prompt|response)\b|\btraining set\b|\bnew example\b|"
    r"\bsame (?:task|style and format)\b",
    re.IGNORECASE,
)
_JSON_LIKE = re.compile(r'^\s*\[|"\s*:\s*["\[{\d]')
_REFUSAL = re.compile(
    r"^\W*(?:i'?m sorry|i am sorry|sorry,|i cannot|i can'?t|i'?m not able|i am not able|as an ai\b|"
    r"i'?m not sure|i don'?t know)",
    re.IGNORECASE,
)


def _json_objects(text: str) -> Iterator[Any]:
    """Every JSON value that starts at a '{' in ``text``, left to right."""
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start != -1:
        try:
            value, _end = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            pass
        else:
            yield value
        start = text.find("{", start + 1)


def _from_json(text: str) -> Reply | None:
    """The first usable object in a fenced block or the text; MalformedReply when the only
    objects that carry a ``response`` carry something other than text there."""
    nested = False
    for candidate in [m.group(1) for m in _FENCE.finditer(text)] + [text]:
        for obj in _json_objects(candidate):
            if not isinstance(obj, dict) or "response" not in obj:
                continue
            response, prompt = obj.get("response"), obj.get("prompt")
            if not isinstance(response, str):
                nested = nested or isinstance(response, (dict, list))
                continue
            if not response.strip() or (prompt is not None and not isinstance(prompt, str)):
                continue
            return Reply((prompt.strip() or None) if prompt else None, response.strip(), "json")
    if nested:
        raise MalformedReply("the 'response' in the reply's object is a nested object, not text")
    return None


def _from_labels(text: str) -> Reply | None:
    marks = list(_LABEL.finditer(text))
    kinds = [m.group("label").lower() for m in marks]
    if not any(k in ("response", "answer") for k in kinds):
        return None
    # the first response label after the first prompt label (or the first one at all)
    first_prompt = next((i for i, k in enumerate(kinds) if k in ("prompt", "instruction")), None)
    start = 0 if first_prompt is None else first_prompt + 1
    resp_i = next((i for i in range(start, len(kinds)) if kinds[i] in ("response", "answer")), None)
    if resp_i is None:
        return None
    end = marks[resp_i + 1].start() if resp_i + 1 < len(marks) else len(text)
    response = _clean(text[marks[resp_i].end():end])
    prompt = None
    if first_prompt is not None and first_prompt < resp_i:
        prompt = _clean(text[marks[first_prompt].end():marks[first_prompt + 1].start()]) or None
    if not response:
        return None
    return Reply(prompt, response, "labelled")


def _clean(part: str) -> str:
    return part.strip().strip('"“”*').strip()


_ABOUT_REWRITE = re.compile(
    r"\b(?:rewrit\w*|rephras\w*|reword\w*|paraphras\w*)\b|\boriginal (?:text|answer|sentence|response)\b",
    re.IGNORECASE,
)
_PREAMBLE = re.compile(r"^[^\n\"“]{0,100}:\s*$")
_QUOTED_AFTER_PREAMBLE = re.compile(r"^[^\"“]{0,100}:\s*[\"“](?P<text>[^\"”]+)[\"”]\W*$")
_INLINE_PREAMBLE = re.compile(r"^(?:here(?:'s| is| are)|sure|okay|certainly)\b[^:\n]{0,120}:[ \t]*(?=\S)",
                              re.IGNORECASE)
_LEADING_LABEL = re.compile(r"^[ \t*_#]*(?:(?:new|rewritten)\s+)?(?:answer|text|response)[ \t*_]*[:：]\s*",
                            re.IGNORECASE)


_WORD = re.compile(r"[a-z]{3,}")
_COMMON = frozenset(
    "the and for with that this from was were are his her him she they them their has have had "
    "not but you your our who what which will would can could about into than then there one "
    "all any been its also very more most some such only just".split()
)


def _content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _COMMON}


def _read_rewrite(text: str, snippet: str, original: str | None) -> Reply:
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    while paragraphs and _PREAMBLE.match(paragraphs[0]):
        paragraphs.pop(0)
    if not paragraphs:
        raise MalformedReply(f"no text after the reply's preamble: {snippet!r}")
    first = paragraphs[0]
    lines = first.splitlines()
    if len(lines) > 1 and _PREAMBLE.match(lines[0]):
        first = "\n".join(lines[1:]).strip()
    quoted = _QUOTED_AFTER_PREAMBLE.match(first)
    if quoted:
        first = quoted.group("text").strip()
    first = _INLINE_PREAMBLE.sub("", first, count=1)
    first = _clean(_LEADING_LABEL.sub("", first, count=1))
    if not first:
        raise MalformedReply(f"empty rewrite: {snippet!r}")
    if "{" in first or "```" in first:
        raise MalformedReply(f"code or JSON instead of a rewritten text: {snippet!r}")
    if _ABOUT_REWRITE.search(first) or _ABOUT_REQUEST.search(first):
        raise MalformedReply(f"the reply talks about the rewrite instead of writing it: {snippet!r}")
    if _REFUSAL.search(first):
        raise MalformedReply(f"the reply refuses or gives up: {snippet!r}")
    _check_text(first, snippet, original)
    return Reply(None, first, "rewrite")


_GARBLED = re.compile(r"[\ufffd\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _check_text(body: str, snippet: str, original: str | None) -> None:
    """Free text is junk when garbled (control or replacement characters) or about something
    else entirely (no content word shared with the record it stands for)."""
    if _GARBLED.search(body):
        raise MalformedReply(f"garbled text: {snippet!r}")
    if original is not None and _content_words(original) and not (_content_words(original) & _content_words(body)):
        raise MalformedReply(f"the reply shares no word with the record it stands for: {snippet!r}")


def read_reply(text: str, *, style: str = "example", original: str | None = None) -> Reply:
    """The new example in a model's reply to a request of ``style`` (``rewrite`` or
    ``example``), or :class:`MalformedReply` saying why there is none.

    ``original`` (the record's prompt and response) makes free text that shares no content word
    with it junk: text about something else is neither a rewrite of it nor a new example for
    its prompt (which a plain reply keeps)."""
    if not isinstance(text, str) or not text.strip():
        raise MalformedReply("empty reply")
    snippet = " ".join(text.split())[:80]
    if style == "rewrite":
        return _read_rewrite(text, snippet, original)
    found = _from_json(text)
    if found is not None:
        return found
    if "{" in text or "```" in text or _JSON_LIKE.search(text):
        raise MalformedReply(f"JSON-like text without a usable {{prompt, response}} object: {snippet!r}")
    labelled = _from_labels(text)
    if labelled is not None:
        if _ABOUT_REQUEST.search(labelled.response):
            raise MalformedReply(f"the reply talks about the request instead of answering it: {snippet!r}")
        _check_text(labelled.response, snippet, None if labelled.prompt else original)
        return labelled
    body = text.strip()
    lines = body.splitlines()
    if len(lines) > 1 and lines[0].rstrip().endswith(":") and len(lines[0].split()) <= 12:
        body = "\n".join(lines[1:]).strip()  # "Here is a new example:" before the example
    if not body:
        raise MalformedReply(f"no text after the reply's preamble: {snippet!r}")
    if _ABOUT_REQUEST.search(body):
        raise MalformedReply(f"the reply talks about the request instead of answering it: {snippet!r}")
    if _REFUSAL.search(body):
        raise MalformedReply(f"the reply refuses or gives up: {snippet!r}")
    _check_text(body, snippet, original)
    return Reply(None, body, "plain")


def parse_reply(text: str, *, style: str = "example") -> tuple[str | None, str]:
    """``(prompt, response)`` of :func:`read_reply` (prompt None when the reply wrote none)."""
    reply = read_reply(text, style=style)
    return reply.prompt, reply.response
