"""The built-in original corpus: instruction-style records about people, occupations,
workplaces, stories, hiring, pay and opinions, counterbalanced over gender and culture."""

from biasinherit.corpora.build import KIND_SHARES, CorpusConfig, build_corpus, kind_counts
from biasinherit.corpora.items import KINDS, Item, render_item
from biasinherit.corpora.render import Person, render

__all__ = [
    "KINDS", "KIND_SHARES", "CorpusConfig", "Item", "Person", "build_corpus", "kind_counts",
    "render", "render_item",
]
