"""One line from a pydantic validation error, the same wherever a config is validated.

A NaN given for a number fails a bound check (``nan <= 10`` is false), so pydantic reports it as
"Input should be less than or equal to 10", which sends the user looking at the number's size;
here it is "is not a number (NaN)", with the range the number must be in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["error_message", "is_nan"]

_BOUNDS = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}


def is_nan(value: Any) -> bool:
    """A float NaN, or a text that reads as one (``"nan"``, ``"NaN"``, as a flag gives it)."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return False
    return isinstance(value, float) and math.isnan(value)


def error_message(err: Mapping[str, Any], *, with_input: bool = True) -> str:
    """The message of one entry of ``ValidationError.errors()``: NaN said as NaN; otherwise
    pydantic's message, with the value given when ``with_input``."""
    message = str(err["msg"]).removeprefix("Value error, ")
    given = err.get("input")
    if is_nan(given):
        bounds = [f"{sign} {err['ctx'][key]}" for key, sign in _BOUNDS.items() if key in (err.get("ctx") or {})]
        return "got NaN (not a number); give a number" + (f" {' and '.join(bounds)}" if bounds else "")
    if with_input and isinstance(given, (str, int, float)) and not isinstance(given, bool):
        message = f"{message} (got {given!r})"
    return message
