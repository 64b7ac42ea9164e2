"""The scorer against a plain full-sequence computation, on GPT-2 and Llama tiny models."""

import pytest
import torch
from tiny_lm import build_tiny_lm

from biasinherit.models.scoring import CausalLMScorer

PAIRS = [
    ("Question: who?\nAnswer:", " the nurse"),
    ("Question: who?\nAnswer:", " the nurse said"),  # shares a prefix with the one above
    ("Question: who?\nAnswer:", " the pilot"),
    ("", "The nurse said that she would finish the report."),
    ("", "The nurse said that he would finish the report."),
    ("Review: The food was great. ", "positive"),  # trailing space moves to the continuation
    ("Salary:\n", "$52,000 per year."),
]


def naive_loglikelihood(model, scorer, context, continuation):
    ctx, cont = scorer.encode_pair(context, continuation)
    ids = torch.tensor([ctx + cont])
    with torch.no_grad():
        logprobs = torch.log_softmax(model(ids).logits[0].float(), -1)
    return sum(logprobs[len(ctx) - 1 + j, t].item() for j, t in enumerate(cont))


@pytest.fixture(scope="module", params=["gpt2", "llama"])
def tiny(request):
    return build_tiny_lm(arch=request.param)


@pytest.mark.parametrize("batch_size", [1, 2, 32])
def test_loglikelihood_matches_full_sequence(tiny, batch_size):
    model, tokenizer = tiny
    scorer = CausalLMScorer(model, tokenizer, batch_size=batch_size)
    got = scorer.loglikelihood(PAIRS)
    for (ctx, cont), r in zip(PAIRS, got):
        assert r.logprob == pytest.approx(naive_loglikelihood(model, scorer, ctx, cont), abs=1e-4)
        assert r.n_tokens == len(scorer.encode_pair(ctx, cont)[1])


def test_many_options_of_one_context_are_split_and_still_exact(tiny):
    model, tokenizer = tiny
    scorer = CausalLMScorer(model, tokenizer, batch_size=4)
    sentences = [f"The {w} said that {p} would finish." for w in ("nurse", "pilot", "chef", "clerk", "cook")
                 for p in ("she", "he")]
    got = scorer.loglikelihood([("", s) for s in sentences])
    for s, r in zip(sentences, got):
        assert r.logprob == pytest.approx(naive_loglikelihood(model, scorer, "", s), abs=1e-4)


def test_encode_pair_follows_the_harness():
    model, tokenizer = build_tiny_lm()
    scorer = CausalLMScorer(model, tokenizer)
    ctx, cont = scorer.encode_pair("Answer: ", "yes")
    assert tokenizer.decode(ctx) == "Answer:" and tokenizer.decode(cont) == " yes"
    ctx, cont = scorer.encode_pair("", "The nurse")
    assert ctx == [tokenizer.bos_token_id] and tokenizer.decode(cont) == "The nurse"
    ctx_bos, _ = scorer.encode_pair("Answer:", " yes", add_bos=True)
    assert ctx_bos[0] == tokenizer.bos_token_id and ctx_bos[1:] == scorer.encode("Answer:")


def test_greedy_flag_matches_argmax(tiny):
    model, tokenizer = tiny
    scorer = CausalLMScorer(model, tokenizer)
    ctx = scorer.encode("The nurse")
    ids = list(ctx)
    with torch.no_grad():
        for _ in range(3):
            ids.append(int(model(torch.tensor([ids])).logits[0, -1].argmax()))
    greedy = ids[len(ctx):]
    assert scorer.loglikelihood_tokens([(ctx, greedy)])[0].is_greedy
    other = greedy[:2] + [(greedy[2] + 1) % len(tokenizer)]
    assert not scorer.loglikelihood_tokens([(ctx, other)])[0].is_greedy


def test_generation_is_batch_invariant_and_cuts_at_stop_strings(tiny):
    model, tokenizer = tiny
    prompts = ["The nurse said", "Review: The food", "x"]
    batched = CausalLMScorer(model, tokenizer, batch_size=3).generate(prompts, max_new_tokens=8)
    single = [CausalLMScorer(model, tokenizer, batch_size=1).generate([p], max_new_tokens=8)[0] for p in prompts]
    assert batched == single
    full = batched[0]
    stop = full[2:4]
    cut = CausalLMScorer(model, tokenizer).generate(["The nurse said"], max_new_tokens=8, stop=[stop])[0]
    assert cut == full[: full.find(stop)]


def test_sampling_is_seeded(tiny):
    model, tokenizer = tiny
    scorer = CausalLMScorer(model, tokenizer, batch_size=2)
    a = scorer.generate(["The nurse", "A pilot"], max_new_tokens=6, temperature=1.0, seed=3)
    b = scorer.generate(["The nurse", "A pilot"], max_new_tokens=6, temperature=1.0, seed=3)
    assert a == b
