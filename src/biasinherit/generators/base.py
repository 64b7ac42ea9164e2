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
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, field_validator

from biasinherit.errors import BiasInheritError, did_you_mean, unknown_name_error
from biasinherit.records import Record

__all__ = [
    "GENERATORS",
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


def check_generator_options(name: str, options: dict[str, Any]) -> None:
    """Unknown generator names and options are user errors (before anything is written)."""
    accepted = set(inspect.signature(_factory(name)).parameters)
    for key in options:
        if key not in accepted:
            raise BiasInheritError(
                f"the {name} generator has no option '{key}'.{did_you_mean(key, accepted)} "
                f"Options: {', '.join(sorted(accepted))}", field=key)


def provenance(generator: Generator, request: GenerationRequest, **extra: Any) -> dict[str, Any]:
    """The ``meta["generation"]`` block every augmented record carries."""
    return {
        "generator": generator.name,
        "arguments": generator.arguments(),
        "request": request.model_dump(),
        **extra,
    }
