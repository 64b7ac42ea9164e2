from __future__ import annotations

from biasinherit.records import Record, Span
from biasinherit.taxonomy import load_taxonomy
from biasinherit.training.mask import IGNORE_INDEX, MASK_PLACEHOLDER, bias_spans, mask_labels, replace_spans


def test_mask_labels_masks_every_overlapping_token() -> None:
    # text "The nurse said she" with tokens [The][ nurse][ said][ she]
    offsets = [(0, 3), (3, 9), (9, 14), (14, 18)]
    labels = [10, 11, 12, 13]
    assert mask_labels(labels, offsets, [(15, 18)]) == [10, 11, 12, IGNORE_INDEX]
    # a span touching two tokens masks both; an empty span list masks nothing
    assert mask_labels(labels, offsets, [(8, 10)]) == [10, IGNORE_INDEX, IGNORE_INDEX, 13]
    assert mask_labels(labels, offsets, []) == labels


def test_replace_spans_returns_placeholder_spans() -> None:
    text = "She said that her work was done."
    new, spans = replace_spans(text, [(14, 17), (0, 3)])
    assert new == f"{MASK_PLACEHOLDER} said that {MASK_PLACEHOLDER} work was done."
    assert [new[s:e] for s, e in spans] == [MASK_PLACEHOLDER, MASK_PLACEHOLDER]


def test_bias_spans_use_the_records_annotations_only_when_asked() -> None:
    text = "The nurse said that Germans never relax."
    record = Record(response=text, source="augmented", spans=[Span(start=20, end=len(text))])
    assert bias_spans(record, load_taxonomy(), "annotations") == [(20, len(text))]
    # by default: what a user with real data has, the lexicon (every attribute's group terms)
    assert [text[s:e] for s, e in bias_spans(record, load_taxonomy())] == ["Germans"]


def test_bias_spans_fall_back_to_the_lexicon() -> None:
    text = "The nurse said that she would call her mother."
    record = Record(response=text, source="augmented", bias_type="gender.association")
    for source in ("lexicon", "annotations"):
        spans = bias_spans(record, load_taxonomy(), source)
        assert [text[s:e] for s, e in spans] == ["she", "her", "mother"]
