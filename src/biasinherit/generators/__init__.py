"""Generators of augmented data: ``builtin`` (controlled bias injector), ``openai``, ``hf``."""

from biasinherit.generators.base import (
    GENERATORS,
    GenerationRequest,
    Generator,
    get_generator,
    provenance,
)

__all__ = ["GENERATORS", "GenerationRequest", "Generator", "get_generator", "provenance"]
