"""The six-type bias framework as data: attributes, lexicons, vocabularies, bias types.

``load_taxonomy()`` returns the package's taxonomy; pass extra folders (or set
``BIASINHERIT_TAXONOMY_PATH``) to add attributes such as religion without touching code.
"""

from biasinherit.taxonomy._loader import ENV_PATH, PLAIN, LexiconEntry, Taxonomy, load_taxonomy
from biasinherit.taxonomy._model import (
    EXPRESSIONS,
    Attribute,
    BiasType,
    Occupation,
    Stereotype,
    Trait,
    ValueItem,
)

__all__ = [
    "ENV_PATH",
    "EXPRESSIONS",
    "PLAIN",
    "Attribute",
    "BiasType",
    "LexiconEntry",
    "Occupation",
    "Stereotype",
    "Taxonomy",
    "Trait",
    "ValueItem",
    "load_taxonomy",
]
