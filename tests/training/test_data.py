from __future__ import annotations

import pytest

from biasinherit.models.tiny import train_tiny_tokenizer
from biasinherit.training.data import (
    PretokenizedTexts,
    TextFraming,
    collate,
    encode_example,
    length_grouped_batches,
    padding_efficiency,
    positional_batches,
)
from biasinherit.training.mask import IGNORE_INDEX

TEXTS = ["Write a short story about a nurse.\nStory:", "The nurse said that she was tired.",
         "The pilot said that he was late.", "<|aug|> tag"]


@pytest.fixture(scope="module")
def tokenizer():  # type: ignore[no-untyped-def]
    return train_tiny_tokenizer(TEXTS * 5, vocab_size=300, extra_special_tokens=["<|aug|>"])


def test_labels_cover_only_the_response_and_eos(tokenizer) -> None:  # type: ignore[no-untyped-def]
    framing = TextFraming(tokenizer.bos_token_id, tokenizer.eos_token_id, max_length=256)
    ids, labels, start = encode_example(
        tokenizer, framing, prompt="Write a short story about a nurse.\nStory:",
        response="The nurse said that she was tired.", prefix="<|aug|>",
    )
    assert ids[0] == tokenizer.bos_token_id
    assert ids[1] == tokenizer.convert_tokens_to_ids("<|aug|>")
    assert ids[-1] == tokenizer.eos_token_id
    assert all(label == IGNORE_INDEX for label in labels[:start])
    assert labels[start:] == ids[start:]
    assert tokenizer.decode(ids[start:-1]) == "The nurse said that she was tired."
    assert tokenizer.decode(ids[2:start]) == "Write a short story about a nurse.\nStory:\n"


def test_mask_spans_and_truncation(tokenizer) -> None:  # type: ignore[no-untyped-def]
    framing = TextFraming(tokenizer.bos_token_id, tokenizer.eos_token_id, max_length=256)
    response = "The nurse said that she was tired."
    ids, labels, start = encode_example(tokenizer, framing, prompt=None, response=response,
                                        mask_spans=[(20, 23)])
    masked = [tokenizer.decode([i]) for i, lab in zip(ids, labels) if lab == IGNORE_INDEX]
    assert start == 1 and masked[0] == tokenizer.bos_token
    assert "".join(masked[1:]).strip() == "she"  # every token of " she", nothing else
    short = TextFraming(tokenizer.bos_token_id, tokenizer.eos_token_id, max_length=8)
    ids, labels, _ = encode_example(tokenizer, short, prompt=None, response=response * 3)
    assert len(ids) == len(labels) == 8


def test_length_grouped_batches_are_seeded_complete_and_tight() -> None:
    import random

    lengths = [random.Random(i).randint(5, 200) for i in range(1000)]
    batches = length_grouped_batches(lengths, 16, seed=0, epoch=0)
    assert sorted(i for b in batches for i in b) == list(range(1000))
    assert batches == length_grouped_batches(lengths, 16, seed=0, epoch=0)
    assert batches != length_grouped_batches(lengths, 16, seed=0, epoch=1)
    assert batches != length_grouped_batches(lengths, 16, seed=1, epoch=0)
    order = list(range(1000))
    random.Random(0).shuffle(order)
    unsorted = [order[i : i + 16] for i in range(0, 1000, 16)]
    assert padding_efficiency(lengths, batches) > 0.9 > padding_efficiency(lengths, unsorted)


def test_positional_batches_are_seeded_complete_and_per_epoch() -> None:
    batches = positional_batches(203, 8, seed=0, epoch=0)
    assert sorted(i for b in batches for i in b) == list(range(203))
    assert [len(b) for b in batches] == [8] * 25 + [3]
    assert batches == positional_batches(203, 8, seed=0, epoch=0)
    assert batches != positional_batches(203, 8, seed=0, epoch=1)
    assert batches != positional_batches(203, 8, seed=1, epoch=0)


def test_collate_right_pads() -> None:
    batch = collate([[1, 2, 3], [4]], [[-100, 2, 3], [4]], pad_id=0)
    assert batch["input_ids"].tolist() == [[1, 2, 3], [4, 0, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert batch["labels"].tolist() == [[-100, 2, 3], [4, -100, -100]]


def test_auto_max_length_fits_the_longest_record_within_the_limits():
    from biasinherit.training.data import AUTO_MAX_LENGTH_CEILING, AUTO_MAX_LENGTH_MARGIN, auto_max_length

    assert auto_max_length([12, 40, 73], limit=8192) == 73 + AUTO_MAX_LENGTH_MARGIN
    assert auto_max_length([12, 40, 300], limit=256) == 256  # the model's limit
    assert auto_max_length([5000], limit=8192) == AUTO_MAX_LENGTH_CEILING
    assert auto_max_length([], limit=8192) == AUTO_MAX_LENGTH_MARGIN


def test_pretokenized_texts_give_the_tokenizers_examples(tokenizer) -> None:  # type: ignore[no-untyped-def]
    framing = TextFraming(tokenizer.bos_token_id, tokenizer.eos_token_id, max_length=256)
    pre = PretokenizedTexts(tokenizer, ["Write a short story about a nurse.\nStory:\n", TEXTS[1], ""])
    for prompt, response, prefix, spans in (
        ("Write a short story about a nurse.\nStory:", TEXTS[1], "", ()),
        ("Write a short story about a nurse.\nStory:", TEXTS[1], "<|aug|>", ()),
        (None, TEXTS[2], "", ()),  # not pre-tokenized: the tokenizer answers
        (None, TEXTS[1], "", [(4, 9)]),  # offsets: the tokenizer answers
    ):
        kwargs = {"prompt": prompt, "response": response, "prefix": prefix, "mask_spans": spans}
        assert encode_example(pre, framing, **kwargs) == encode_example(tokenizer, framing, **kwargs)
    assert set(pre.ids) == {"Write a short story about a nurse.\nStory:\n", TEXTS[1]}
