"""Stances on the taxonomy's value items, from annotations, the values format, or embeddings.

A record's stance is read in this order:

1. ``meta["stance"]`` (with ``meta["value_id"]`` or ``meta["dimension"]``), as the built-in
   corpus and generators annotate it;
2. the values format itself (``formats.values_prompt``): a prompt that quotes a value item's
   statement and a response whose first word is a stance ("agree" / "disagree"), as an LLM
   answering in that format writes it;
3. otherwise the **embedding stance scorer**: a record is a candidate when it shares at least
   ``MIN_SHARED_WORDS`` content words and 40% of them with a value item's statement (a cheap
   filter, so stories and coreference items are not embedded), and value-laden when its sentence
   embedding is also close (cosine >= ``VALUE_SIMILARITY``) to a value item's statement; its stance is
   then predicted by a logistic regression over sentence embeddings, trained on sentences the
   scorer writes itself from every value item with agreeing and disagreeing frames ("Most people
   here believe that ...", "It is wrong to think that ..."). It is an approximate reader of
   free text, reported separately from annotated stances (``source`` in the table).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from biasinherit.analysis.embeddings import EmbeddingModel
from biasinherit.records import Record
from biasinherit.taxonomy import Taxonomy, ValueItem

__all__ = ["EmbeddingStanceScorer", "StanceReading", "annotated_stance", "stance_frames"]

VALUE_SIMILARITY = 0.6
MIN_SHARED_WORDS = 2
_STOP = frozenset("""about after again also because been before being between could does doing
from have having here into more most only other over same should some such than that their them
then there these they this those through under very what when where which while with would your
even people question answer""".split())

AGREE_FRAMES = (
    "{s}",
    "I agree that {l}",
    "It is true that {l}",
    "Most people here believe that {l}",
    "She is convinced that {l}",
    "Everyone knows that {l}",
    "We firmly hold that {l}",
    "They said yes: {l}",
)
DISAGREE_FRAMES = (
    "It is not true that {l}",
    "I disagree that {l}",
    "It is wrong to think that {l}",
    "Few people here believe that {l}",
    "She rejects the idea that {l}",
    "Nobody should accept that {l}",
    "We do not think that {l}",
    "They said no: {l}",
)


@dataclass(frozen=True)
class StanceReading:
    value_id: str
    dimension: str
    stance: str  # one of taxonomy.stances
    source: str  # "annotation" | "format" | "scorer"


def _lower_first(s: str) -> str:
    s = s.rstrip(".")
    return s[:1].lower() + s[1:] if s[:1].isupper() and not s[1:2].isupper() else s


def stance_frames(items: Sequence[ValueItem]) -> tuple[list[str], list[int], list[int]]:
    """Training sentences for the scorer: (texts, labels 1=agree 0=disagree, item index)."""
    texts, labels, item_idx = [], [], []
    for k, item in enumerate(items):
        for frames, label in ((AGREE_FRAMES, 1), (DISAGREE_FRAMES, 0)):
            for f in frames:
                texts.append(f.format(s=item.statement, l=_lower_first(item.statement)) + ".")
                labels.append(label)
                item_idx.append(k)
    return texts, labels, item_idx


def annotated_stance(record: Record, taxonomy: Taxonomy) -> StanceReading | None:
    """The stance a record states by annotation or by the values format, or None."""
    by_id = {v.id: v for v in taxonomy.values}
    stance = record.meta.get("stance")
    if isinstance(stance, str) and stance in taxonomy.stances:
        item = by_id.get(str(record.meta.get("value_id", "")))
        dim = record.meta.get("dimension") or (item.dimension if item else None)
        if dim:
            return StanceReading(item.id if item else str(dim), str(dim), stance, "annotation")
    if record.prompt:
        for item in taxonomy.values:
            if item.statement in record.prompt:
                first = re.match(r"\s*([A-Za-z]+)", record.response)
                word = first.group(1).lower() if first else ""
                if word in taxonomy.stances:
                    return StanceReading(item.id, item.dimension, word, "format")
    return None


def _content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", text.lower()) if len(w) >= 4 and w not in _STOP}


class EmbeddingStanceScorer:
    """Finds value-laden free text and reads its stance (see module docstring)."""

    def __init__(self, taxonomy: Taxonomy, embedder: EmbeddingModel, *, seed: int = 0) -> None:
        self.items = list(taxonomy.values)
        self.stances = list(taxonomy.stances)  # [agree, disagree]
        self.embedder = embedder
        self.seed = seed
        self.item_words = [_content_words(v.statement) for v in self.items]
        self._fitted: tuple[np.ndarray, Any] | None = None

    def _fit(self) -> tuple[np.ndarray, Any]:
        """Embed the value items and train the stance classifier (on first use only, so data
        without value-laden free text never pays for it)."""
        if self._fitted is None:
            from sklearn.linear_model import LogisticRegression

            item_vectors = self.embedder.encode([v.statement for v in self.items])
            texts, labels, _ = stance_frames(self.items)
            x = self.embedder.encode(texts)
            classifier = LogisticRegression(C=4.0, max_iter=2000, random_state=self.seed).fit(x, labels)
            self._fitted = (item_vectors, classifier)
        return self._fitted

    def is_candidate(self, text: str) -> bool:
        """Cheap lexical filter: could this text be about a value item?"""
        words = _content_words(text)
        return any(
            len(words & w) >= MIN_SHARED_WORDS and len(words & w) >= 0.4 * len(w) for w in self.item_words
        )

    def read(self, texts: Sequence[str]) -> list[StanceReading | None]:
        """A stance for each value-laden text, None for the others."""
        if not texts:
            return []
        item_vectors, classifier = self._fit()
        x = self.embedder.encode(list(texts))
        sims = x @ item_vectors.T  # (texts, items); embeddings are unit length
        best = sims.argmax(axis=1)
        p_agree = classifier.predict_proba(x)[:, 1]
        out: list[StanceReading | None] = []
        for i in range(len(texts)):
            if sims[i, best[i]] < VALUE_SIMILARITY:
                out.append(None)
                continue
            item = self.items[best[i]]
            stance = self.stances[0] if p_agree[i] >= 0.5 else self.stances[1]
            out.append(StanceReading(item.id, item.dimension, stance, "scorer"))
        return out

    def accuracy_on(self, texts: Sequence[str], labels: Sequence[int]) -> float:
        """Share of texts whose predicted stance (1 = agree) matches ``labels``."""
        _, classifier = self._fit()
        x = self.embedder.encode(list(texts))
        return float(np.mean(classifier.predict(x) == np.asarray(labels)))
