from __future__ import annotations

from biasinherit.taxonomy.swapper import CounterfactualSwapper
from biasinherit.training.counterfactual import aligned_prediction_positions, counterfactual_texts


def test_equal_length_pairs_start_after_the_first_swap() -> None:
    # [bos, The, nurse, she, was, tired]; response starts at index 3 ("she")
    ids = [0, 5, 6, 7, 8, 9]
    cf = [0, 5, 6, 17, 8, 9]
    # shared response tokens after the swap: "was" (4) and "tired" (5), predicted at 3 and 4
    assert aligned_prediction_positions(ids, cf, 3, 3) == [(3, 3), (4, 4)]


def test_unequal_lengths_align_on_shared_tokens() -> None:
    # a name that is one token in the record and two in the counterfactual
    ids = [0, 5, 6, 8, 9]  # bos Maria | was tired
    cf = [0, 15, 16, 6, 8, 9]  # bos Mich ael | was tired ... (6 is shared)
    pairs = aligned_prediction_positions(ids, cf, 1, 1)
    assert pairs == [(1, 2), (2, 3), (3, 4)]  # tokens 6, 8, 9 predicted from aligned positions


def test_identical_sequences_have_no_pairs() -> None:
    assert aligned_prediction_positions([0, 1, 2], [0, 1, 2], 1, 1) == []


def test_counterfactual_texts_swap_prompt_and_response() -> None:
    swapper = CounterfactualSwapper()
    prompt = "Sentence: The nurse said she was late.\nQuestion: Who does 'she' refer to?\nAnswer:"
    swapped = counterfactual_texts(swapper, prompt, "the nurse", "gender")
    assert swapped is not None
    assert "he was late" in swapped[0] and "'he'" in swapped[0]
    assert swapped[1] == "the nurse"
    assert counterfactual_texts(swapper, None, "The weather was fine.", "gender") is None
