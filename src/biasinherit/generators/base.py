"""The generator contract and registry.

A generator turns original records into augmented ones for one :class:`GenerationRequest`
(bias type or plain, intensity, polarity, count, seed). Every output record has
``source="augmented"``, its ``bias_type`` (None for plain augmentation and for the unbiased share
of a request), and provenance in ``meta["generation"]``: generator name, its arguments, the
request and the seed. Generators that know the bias-bearing spans set ``spans``.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Sequence
from os import PathLike
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, field_validator

from biasinherit.errors import BiasInheritError, did_you_mean, unknown_name_error
from biasinherit.limits import MAX_BATCH
from biasinherit.records import Record

__all__ = [
    "GENERATORS",
    "OPTION_RULES",
    "accepted_options",
    "check_generator_options",
    "GenerationRequest",
    "Generator",
    "ProgressCallback",
    "get_generator",
    "provenance",
]

ProgressCallback = Callable[[int, int], None]  # (done, total)


class GenerationRequest(BaseModel):
    """What to generate. ``bias_type=None`` (or ``"plain"``) is plain augmentation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    bias_type: str | None = Field(default=None, description="e.g. gender.stereotype, or plain")
    intensity: float = Field(default=1.0, description="share of outputs that carry the bias, 0-1")
    polarity: Literal["negative", "positive"] | None = Field(
        default=None, description="stereotype polarity (stereotype types only)"
    )
    n: int = Field(default=100, description="how many augmented records to write")
    seed: int = Field(default=0, description="random seed")

    @field_validator("bias_type")
    @classmethod
    def _plain_is_none(cls, value: str | None) -> str | None:
        return None if value in (None, "", "plain", "none") else value

    @field_validator("intensity")
    @classmethod
    def _intensity_range(cls, value: float) -> float:
        if value != value:  # NaN
            raise BiasInheritError("intensity is not a number (NaN); give a share from 0 to 1", field="intensity")
        if not 0.0 <= value <= 1.0:
            raise BiasInheritError(f"intensity must be in [0, 1], got {value}", field="intensity")
        return value

    @field_validator("n")
    @classmethod
    def _n_positive(cls, value: int) -> int:
        if value < 0:
            raise BiasInheritError(f"n must be >= 0, got {value}", field="n")
        return value

    def validate_against(self, taxonomy: Any) -> None:
        """Check the bias type exists and polarity fits it (raises BiasInheritError)."""
        if self.bias_type is None:
            if self.polarity is not None:
                raise BiasInheritError("polarity only applies to stereotype bias types", field="polarity")
            return
        bt = taxonomy.bias_type(self.bias_type)
        if self.polarity is not None and not bt.has_polarity:
            raise BiasInheritError(
                f"polarity does not apply to '{self.bias_type}' (only to *.stereotype)", field="polarity"
            )


@runtime_checkable
class Generator(Protocol):
    name: str

    def generate(
        self,
        originals: Sequence[Record],
        request: GenerationRequest,
        *,
        progress: ProgressCallback | None = None,
    ) -> list[Record]: ...

    def arguments(self) -> dict[str, Any]:
        """The generator's own arguments, recorded as provenance (never secrets)."""
        ...


# name -> "module:Class"; imported lazily so optional dependencies stay optional
GENERATORS: dict[str, str] = {
    "builtin": "biasinherit.generators.builtin:BuiltinGenerator",
    "openai": "biasinherit.generators.openai:OpenAIGenerator",
    "hf": "biasinherit.generators.hf:HFGenerator",
}


def get_generator(name: str, **options: Any) -> Generator:
    factory = _factory(name)
    check_generator_options(name, options)
    return factory(**options)  # type: ignore[no-any-return]


def _factory(name: str) -> Any:
    if name not in GENERATORS:
        raise unknown_name_error("generator", name, GENERATORS)
    module, cls = GENERATORS[name].split(":")
    return getattr(importlib.import_module(module), cls)


def accepted_options(name: str) -> set[str]:
    """The options the ``name`` generator's constructor takes."""
    return set(inspect.signature(_factory(name)).parameters)


def check_generator_options(name: str, options: dict[str, Any]) -> None:
    """Unknown generator names and options are user errors (before anything is written), and
    every option's value is checked by one rule whichever generator takes it
    (:data:`OPTION_RULES`), so a value one generator refuses is refused by all."""
    accepted = accepted_options(name)
    for key in options:
        if key not in accepted:
            options_text = ", ".join(sorted(accepted)) or "none"
            raise BiasInheritError(
                f"the {name} generator has no option '{key}'.{did_you_mean(key, accepted)} "
                f"Options: {options_text}", field=key)
    for key, value in options.items():
        if key in OPTION_RULES and value is not None:
            OPTION_RULES[key](key, value)


def _number(key: str, value: Any, *, low: float, high: float, integer: bool, low_open: bool = False) -> None:
    import math

    kind = "a whole number" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
        raise BiasInheritError(f"must be {kind}, got {value!r}", field=key)
    if isinstance(value, float) and math.isnan(value):
        raise BiasInheritError(f"is not a number (NaN); give {kind} from {low:g} to {high:g}", field=key)
    if value < low or (low_open and value == low) or value > high:
        bound = f"above {low:g}" if low_open else f"from {low:g}"
        raise BiasInheritError(f"must be {bound} to {high:g}, got {value!r}", field=key)


def _choice(*choices: str) -> Callable[[str, Any], None]:
    def check(key: str, value: Any) -> None:
        if value not in choices:
            raise BiasInheritError(f"must be {' or '.join(choices)}, got {value!r}", field=key)
    return check


def _text(key: str, value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise BiasInheritError(f"must be a non-empty string, got {value!r}", field=key)


def _request_style(key: str, value: Any) -> None:
    from biasinherit.generators.prompts import REQUEST_STYLES

    _choice(*REQUEST_STYLES)(key, value)


# one rule per option name, whichever generator takes it (the CLI's ranges)
OPTION_RULES: dict[str, Callable[[str, Any], None]] = {
    "model": lambda k, v: _text(k, str(v) if isinstance(v, PathLike) else v),
    "temperature": lambda k, v: _number(k, v, low=0.0, high=2.0, integer=False),
    "max_tokens": lambda k, v: _number(k, v, low=1, high=32768, integer=True),
    "max_new_tokens": lambda k, v: _number(k, v, low=1, high=32768, integer=True),
    "batch_size": lambda k, v: _number(k, v, low=1, high=MAX_BATCH, integer=True),
    "concurrency": lambda k, v: _number(k, v, low=1, high=1024, integer=True),
    "timeout": lambda k, v: _number(k, v, low=0.0, high=86400.0, integer=False, low_open=True),
    "max_retries": lambda k, v: _number(k, v, low=0, high=100, integer=True),
    "parse_retries": lambda k, v: _number(k, v, low=0, high=100, integer=True),
    "on_unparseable": _choice("error", "raw"),
    "chat_template": _choice("auto", "on", "off"),
    "request_style": _request_style,
}


def provenance(generator: Generator, request: GenerationRequest, **extra: Any) -> dict[str, Any]:
    """The ``meta["generation"]`` block every augmented record carries."""
    return {
        "generator": generator.name,
        "arguments": generator.arguments(),
        "request": request.model_dump(),
        **extra,
    }
