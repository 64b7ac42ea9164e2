import numpy as np
import pytest

from biasinherit.analysis.embeddings import EmbeddingModel
from biasinherit.analysis.stance import EmbeddingStanceScorer, _lower_first
from biasinherit.errors import BiasInheritError
from biasinherit.taxonomy import load_taxonomy


def test_cache_by_content_hash(embedder, tmp_path):
    fresh = EmbeddingModel(cache_dir=tmp_path)
    fresh._model = embedder._load()  # share the loaded weights, not the cache
    texts = ["The nurse went home.", "The pilot landed.", "The nurse went home."]
    first = fresh.encode(texts)
    assert first.shape == (3, 384) and fresh.misses == 2 and fresh.hits == 0
    assert np.allclose(first[0], first[2]) and np.linalg.norm(first[1]) == pytest.approx(1.0, abs=1e-4)
    assert len(list(tmp_path.rglob("*.npy"))) == 2
    again = fresh.encode(texts[:2])
    assert fresh.hits == 2 and np.allclose(again, first[:2])


def test_unknown_model_path_is_one_line_user_error(tmp_path):
    with pytest.raises(BiasInheritError, match="embedding model '.*nope' not found"):
        EmbeddingModel(str(tmp_path / "nope"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(BiasInheritError, match="not a sentence-transformers model folder"):
        EmbeddingModel(str(tmp_path / "empty"))


def test_stance_scorer_on_frames_it_never_saw(embedder):
    tax = load_taxonomy()
    scorer = EmbeddingStanceScorer(tax, embedder)
    agree = ["Honestly, {l}, in my opinion.", "Absolutely, {l}."]
    disagree = ["Honestly, I doubt that {l}.", "Nonsense, it is false that {l}."]
    texts, labels = [], []
    for item in tax.values:
        for frames, label in ((agree, 1), (disagree, 0)):
            for f in frames:
                texts.append(f.format(l=_lower_first(item.statement)))
                labels.append(label)
    assert scorer.accuracy_on(texts, labels) > 0.65  # an approximate reader: measured ~0.74-0.8
    readings = scorer.read([texts[0], "The weather was mild and the bus was late."])
    assert readings[0] is not None and readings[0].value_id == tax.values[0].id
    assert readings[1] is None
