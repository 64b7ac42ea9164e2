"""The six-type bias framework as data: attributes, lexicons, vocabularies, bias types.

``load_taxonomy()`` returns the package's taxonomy; pass extra folders (or set
``BIASINHERIT_TAXONOMY_PATH``) to add attributes such as religion without touching code.
"""

from biasinherit.taxonomy._loader import (
    ENV_PATH,
    PLAIN,
    LexiconEntry,
    Taxonomy,
    TermMatch,
    load_taxonomy,
)
from biasinherit.taxonomy._model import (
    EXPRESSIONS,
    Attribute,
    BiasType,
    Occupation,
    Stereotype,
    Trait,
    ValueItem,
)
from biasinherit.taxonomy.swapper import CounterfactualSwapper, SwapChange, SwapResult

__all__ = [
    "ENV_PATH",
    "EXPRESSIONS",
    "PLAIN",
    "Attribute",
    "BiasType",
    "CounterfactualSwapper",
    "LexiconEntry",
    "Occupation",
    "Stereotype",
    "SwapChange",
    "SwapResult",
    "Taxonomy",
    "TermMatch",
    "Trait",
    "ValueItem",
    "load_taxonomy",
]
