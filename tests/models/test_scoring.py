"""The scorer against a plain full-sequence computation, on GPT-2 and Llama tiny models."""

import logging

import pytest
import torch
from tiny_lm import build_tiny_lm

from biasinherit.models.scoring import CausalLMScorer, _pack

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


@pytest.mark.parametrize("share", [None, True, False], ids=["auto", "tree", "plain"])
@pytest.mark.parametrize("batch_size,row_tokens", [(1, 1), (2, 16), (32, 128)])
def test_loglikelihood_matches_full_sequence(tiny, batch_size, row_tokens, share):
    model, tokenizer = tiny
    scorer = CausalLMScorer(model, tokenizer, batch_size=batch_size, row_tokens=row_tokens, share=share)
    got = scorer.loglikelihood(PAIRS)
    if share is None:
        assert scorer.share is True  # both architectures pass the tree check
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


def test_pack_shares_prefixes_and_each_path_is_its_sequence():
    seqs = [[0, 5, 6, 7, 8], [0, 5, 6, 9, 8], [0, 5, 6, 7, 8], [0, 3, 4], [0, 5, 6, 7, 8, 2]]
    ctx = [1, 1, 3, 1, 2]
    (row,) = _pack(seqs, ctx, row_tokens=64, share=True)
    # inputs (all but the last token) [0 5 6 7], [0 5 6 9], [0 3], [0 5 6 7 8]: trie of 7 nodes
    assert len(row.tokens) == 7 and row.n_requests == 5
    for i, (seq, c) in enumerate(zip(seqs, ctx)):
        entries = [(p, t) for p, t, o in zip(row.predictors, row.targets, row.owners) if o == i]
        assert [t for _, t in entries] == seq[c:]
        for (node, _), position in zip(entries, range(c - 1, len(seq) - 1)):
            # the predicting node carries the sequence's token at its depth, and so do its ancestors
            assert row.tokens[node] == seq[position] and row.depth[node] == position
            ancestors = [m for m in range(node + 1) if m <= node <= row.end[m]]
            assert [row.tokens[m] for m in ancestors] == seq[: position + 1]
    plain = _pack(seqs, ctx, row_tokens=64, share=False)
    assert [len(r.tokens) for r in plain] == [5, 4, 4, 4, 2]
    assert [len(r.tokens) for r in _pack(seqs, ctx, row_tokens=5, share=True)] == [5, 5, 4]  # full: a new row


def test_models_that_refuse_tree_rows_are_scored_plainly(caplog):
    from transformers import BloomConfig, BloomForCausalLM

    _, tokenizer = build_tiny_lm()
    torch.manual_seed(0)
    alibi = BloomForCausalLM(BloomConfig(vocab_size=len(tokenizer), hidden_size=32, n_layer=2, n_head=2)).eval()
    scorer = CausalLMScorer(alibi, tokenizer)
    with caplog.at_level(logging.INFO, logger="biasinherit.models.scoring"):
        got = scorer.loglikelihood(PAIRS)
    assert scorer.share is False and "plain rows" in caplog.text
    for (ctx, cont), r in zip(PAIRS, got):
        assert r.logprob == pytest.approx(naive_loglikelihood(alibi, scorer, ctx, cont), abs=1e-4)


def test_tree_rows_that_disagree_with_plain_rows_are_dropped(caplog):
    model, tokenizer = build_tiny_lm()
    scorer = CausalLMScorer(model, tokenizer)
    forward = scorer._forward

    def ignore_positions(**inputs):  # as a model that silently ignored position ids would
        inputs.pop("position_ids", None)
        return forward(**inputs)

    scorer._forward = ignore_positions
    with caplog.at_level(logging.WARNING, logger="biasinherit.models.scoring"):
        got = scorer.loglikelihood(PAIRS)
    assert scorer.share is False and "disagree" in caplog.text
    for (ctx, cont), r in zip(PAIRS, got):
        assert r.logprob == pytest.approx(naive_loglikelihood(model, scorer, ctx, cont), abs=1e-4)


def test_batched_encoding_equals_one_pair_at_a_time():
    model, tokenizer = build_tiny_lm()
    scorer = CausalLMScorer(model, tokenizer)
    pairs = PAIRS + PAIRS[:3] + [("Answer:  ", "two spaces"), ("", "")]
    assert scorer.encode_pairs(pairs) == [scorer.encode_pair(c, x) for c, x in pairs]
    assert scorer.encode_pairs(pairs, add_bos=True) == [scorer.encode_pair(c, x, add_bos=True) for c, x in pairs]


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


def test_sampled_tokens_follow_the_tempered_softmax():
    from biasinherit.models.scoring import sample_tokens

    logits = torch.tensor([[0.0, 1.0, 2.0, -30.0]]).repeat(20_000, 1)
    gen = torch.Generator().manual_seed(0)
    for temperature in (1.0, 0.5):
        drawn = sample_tokens(logits, temperature, gen)
        share = torch.bincount(drawn, minlength=4).double() / len(drawn)
        expected = torch.softmax(logits[0].double() / temperature, -1)
        assert torch.allclose(share, expected, atol=0.015)  # about 4 standard errors at most


def test_per_token_scores_are_each_positions_logprob(tiny):
    model, tokenizer = tiny
    scorer = CausalLMScorer(model, tokenizer, batch_size=2, row_tokens=16)
    got = scorer.loglikelihood(PAIRS, per_token=True)
    for (context, continuation), r in zip(PAIRS, got):
        ctx, cont = scorer.encode_pair(context, continuation)
        assert list(r.tokens) == cont and len(r.token_logprobs) == len(cont)
        with torch.no_grad():
            logprobs = torch.log_softmax(model(torch.tensor([ctx + cont])).logits[0].float(), -1)
        expected = [logprobs[len(ctx) - 1 + j, t].item() for j, t in enumerate(cont)]
        assert list(r.token_logprobs) == pytest.approx(expected, abs=1e-4)
        assert sum(r.token_logprobs) == pytest.approx(r.logprob, abs=1e-9)
    assert scorer.loglikelihood(PAIRS[:1])[0].token_logprobs == ()


def test_lora_adapters_score_and_generate_through_the_wrapped_model():
    from peft import LoraConfig, get_peft_model

    model, tokenizer = build_tiny_lm(arch="llama")
    plain = CausalLMScorer(model, tokenizer)
    expected = [r.logprob for r in plain.loglikelihood(PAIRS)]
    generated = plain.generate(["The nurse said", "x"], max_new_tokens=6)
    torch.manual_seed(0)
    lora = get_peft_model(model, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], lora_dropout=0.0)).eval()
    scorer = CausalLMScorer(lora, tokenizer)
    # a fresh adapter adds nothing (its B matrices are zero), so scores and text are the base model's
    assert [r.logprob for r in scorer.loglikelihood(PAIRS)] == pytest.approx(expected, abs=1e-5)
    assert scorer.share is True
    assert scorer.generate(["The nurse said", "x"], max_new_tokens=6) == generated
    with torch.no_grad():  # a trained adapter changes them
        for name, p in lora.named_parameters():
            if "lora_B" in name:
                p.add_(0.5)
    changed = [r.logprob for r in scorer.loglikelihood(PAIRS)]
    for (ctx, cont), r in zip(PAIRS, changed):
        assert r == pytest.approx(naive_loglikelihood(lora, scorer, ctx, cont), abs=1e-4)
    assert changed != pytest.approx(expected, abs=1e-3)


def test_generation_puts_one_bos_before_a_prompt_whose_tokenizer_adds_its_own():
    """A Llama-style tokenizer adds BOS itself; generating with add_bos must not add a second
    (the log-likelihood side, encode_pairs, already checked for it)."""
    from tokenizers.processors import TemplateProcessing

    model, tokenizer = build_tiny_lm(arch="llama")
    plain = CausalLMScorer(model, tokenizer)
    with_bos = plain.generate(["The nurse said"], max_new_tokens=6, add_bos=True)
    tokenizer._tokenizer.post_processor = TemplateProcessing(
        single="<|endoftext|> $A", special_tokens=[("<|endoftext|>", tokenizer.bos_token_id)])
    adds_own = CausalLMScorer(model, tokenizer)
    assert adds_own.encode("The nurse said")[0] == tokenizer.bos_token_id  # the tokenizer adds it
    assert adds_own.generate(["The nurse said"], max_new_tokens=6, add_bos=True) == with_bos
