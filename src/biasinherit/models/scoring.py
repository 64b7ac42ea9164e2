"""Log-likelihood and generation for any Hugging Face causal LM, batched.

Log-likelihood packs requests into *prefix trees*. Requests are sorted by their tokens, so
neighbours share the longest prefixes (a question's options share its prompt; a CrowS-Pairs pair
shares everything before the swapped word; many sentences share their first words). Consecutive
requests are packed into one row of at most ``row_tokens`` tokens in which every shared prefix
appears once: each token sits at its depth in the tree (its position id) and attends only to its
ancestors (a 4-D attention mask). One forward pass scores the whole row, with no KV cache to copy
and a third fewer tokens on CrowS-Pairs than scoring each sentence alone. The output head and
``log_softmax`` run only on the positions that predict a scored token, a chunk at a time, never
on the whole ``[batch, time, vocab]`` block.

Not every model honours a custom 4-D mask and position ids (ALiBi models, flash attention). The
first call checks the tree result against plain rows on a few of its own requests, and falls back
to plain rows (one request a row, as lm-evaluation-harness does) when they disagree.

Tokenization matches lm-evaluation-harness (``lm_eval.api.model.TemplateLM``): trailing spaces
of the context move to the continuation, the whole string is encoded and split at the context's
length; an empty context is the prefix token (BOS, else EOS), so scores can be compared with it.
Texts are encoded in one batched tokenizer call.

Generation: greedy by default (or seeded sampling), left-padded batches sorted by length, a KV
cache, and stop strings checked on the decoded text of each row.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CausalLMScorer", "LoglikelihoodResult", "ProgressCallback"]

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]  # (done, total)

# logits are materialized for at most this many (rows x vocabulary) floats at a time: on a CPU
# a chunk that stays in cache is fastest, an accelerator wants large kernels
_HEAD_CHUNK_FLOATS = {"cpu": 1 << 19}
_HEAD_CHUNK_FLOATS_DEFAULT = 1 << 25
# ... but never fewer rows than this: each chunk reads the whole output matrix, and with a large
# vocabulary few rows make the head memory-bound (SmolLM2, 49,152 tokens, one CPU thread: 3.4 ms
# a row at 16 rows a chunk, 1.4-1.6 ms at 128-1,024)
_HEAD_CHUNK_MIN_ROWS = 256


@dataclass(frozen=True)
class LoglikelihoodResult:
    """Sum of log-probabilities of a continuation, whether greedy decoding yields it, its length,
    and (when asked for) its tokens and each one's log-probability."""

    logprob: float
    is_greedy: bool
    n_tokens: int
    tokens: tuple[int, ...] = ()
    token_logprobs: tuple[float, ...] = ()


@dataclass
class _Row:
    """One row of a forward pass: a forest of requests' token paths, shared prefixes once.

    Node ``n`` holds ``tokens[n]`` at position ``depth[n]``; its subtree spans ``n..end[n]`` (nodes
    are in depth-first order), so ``n`` attends to ``m`` exactly when ``m <= n <= end[m]``.
    """

    tokens: list[int] = field(default_factory=list)
    depth: list[int] = field(default_factory=list)
    end: list[int] = field(default_factory=list)
    # scored tokens, one entry each: the node whose output predicts it, the token, its request,
    # and its index among all requests' continuation tokens
    predictors: list[int] = field(default_factory=list)
    targets: list[int] = field(default_factory=list)
    owners: list[int] = field(default_factory=list)
    slots: list[int] = field(default_factory=list)
    n_requests: int = 0
    path: list[int] = field(default_factory=list)  # nodes of the last input added
    last: list[int] = field(default_factory=list)  # that input's tokens


def _common_prefix_length(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def _pack(sequences: Sequence[list[int]], context_lengths: Sequence[int], *, row_tokens: int,
          share: bool) -> list[_Row]:
    """Rows for scoring ``sequences[i][context_lengths[i]:]`` given what precedes it.

    With ``share``, sequences are taken in token order and each row holds consecutive ones while
    its nodes fit in ``row_tokens`` (a longer sequence gets a row of its own); without, every
    sequence is a row of its own (a plain causal row). Rows come out longest first.
    """
    if share:
        order = sorted(range(len(sequences)), key=sequences.__getitem__)
    else:
        order = sorted(range(len(sequences)), key=lambda i: -len(sequences[i]))
    starts = [0]
    for seq, c in zip(sequences, context_lengths):
        starts.append(starts[-1] + len(seq) - c)
    rows: list[_Row] = []
    row: _Row | None = None
    for i in order:
        seq = sequences[i]
        inp = seq[:-1]  # the last token is predicted, never fed
        k = _common_prefix_length(row.last, inp) if (share and row is not None) else 0
        if row is None or not share or len(row.tokens) + len(inp) - k > max(row_tokens, len(inp)):
            row = _Row()
            rows.append(row)
            k = 0
        start = len(row.tokens)
        path = row.path[:k] + list(range(start, start + len(inp) - k))
        row.tokens.extend(inp[k:])
        row.depth.extend(range(k, len(inp)))
        row.end.extend([0] * (len(inp) - k))
        if len(inp) > k:
            last_node = len(row.tokens) - 1
            for node in path:
                row.end[node] = last_node
        row.path, row.last = path, inp
        c = context_lengths[i]
        row.predictors.extend(path[c - 1:])
        row.targets.extend(seq[c:])
        row.owners.extend([i] * (len(seq) - c))
        row.slots.extend(range(starts[i], starts[i + 1]))
        row.n_requests += 1
    rows.sort(key=lambda r: -len(r.tokens))
    return rows


class CausalLMScorer:
    """Scores and generates with a loaded causal LM and its tokenizer.

    ``batch_size`` counts rows per forward pass (a row holds one generation prompt, or for
    log-likelihood up to ``row_tokens`` tokens of prefix-shared requests; a batch's padded size
    also stays within ``batch_size * row_tokens`` tokens). ``prefix_token_id`` is the token an
    empty context is conditioned on (default: BOS, else EOS, as the harness does). ``share``
    chooses prefix-tree rows (``True``), plain rows (``False``) or tree rows if the model passes
    the check on its first call (``None``).
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        batch_size: int = 32,
        prefix_token_id: int | None = None,
        row_tokens: int = 128,
        share: bool | None = None,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = max(1, int(batch_size))
        self.row_tokens = max(1, int(row_tokens))
        self.share = share
        if prefix_token_id is None:
            prefix_token_id = tokenizer.bos_token_id
            if prefix_token_id is None:
                prefix_token_id = tokenizer.eos_token_id
        if prefix_token_id is None:
            raise ValueError("the tokenizer has neither a BOS nor an EOS token to condition on")
        self.prefix_token_id = int(prefix_token_id)
        pad = tokenizer.pad_token_id
        self.pad_token_id = int(pad if pad is not None else self.prefix_token_id)
        # a PEFT model (LoRA adapter) wraps the transformers model, whose layers carry the adapter
        inner = model.get_base_model() if hasattr(model, "get_base_model") else model
        # transformers 5.2x renamed ``past_key_values`` to ``cache`` (argument and output)
        params = inspect.signature(inner.forward).parameters
        self._cache_arg = "cache" if "cache" in params else "past_key_values"
        # generation needs the next-token logits only: the head on the last position alone
        # (transformers' ``logits_to_keep``) instead of on every prompt position at the first step
        self._last_logits: dict[str, int] = {"logits_to_keep": 1} if "logits_to_keep" in params else {}
        config = inner.config
        # The output head is applied only to the scored positions (hidden states of the
        # backbone -> lm_head on gathered rows) unless the architecture post-processes logits.
        parts = split_output_head(model)
        self._split_head = parts is not None
        self._backbone, self._head = parts if parts is not None else (None, None)
        self._config = config
        self._bool_mask = getattr(config, "_attn_implementation", None) == "sdpa"
        self.max_length = int(getattr(config, "n_positions", None)
                              or getattr(config, "max_position_embeddings", None) or 2048)

    # ---- tokenization (harness-compatible) --------------------------------------------------

    def encode(self, text: str, *, add_special_tokens: bool | None = None) -> list[int]:
        kwargs = {} if add_special_tokens is None else {"add_special_tokens": add_special_tokens}
        return list(self.tokenizer.encode(text, **kwargs))

    def _encode_many(self, texts: Sequence[str], *, add_special_tokens: bool | None) -> dict[str, list[int]]:
        """Each distinct text's ids, from one batched tokenizer call."""
        unique = list(dict.fromkeys(texts))
        if not unique:
            return {}
        kwargs = {} if add_special_tokens is None else {"add_special_tokens": add_special_tokens}
        ids = self.tokenizer(unique, **kwargs)["input_ids"]
        return {t: list(x) for t, x in zip(unique, ids)}

    def encode_pairs(self, pairs: Sequence[tuple[str, str]], *,
                     add_bos: bool = False) -> list[tuple[list[int], list[int]]]:
        """Context and continuation token ids, split exactly as lm-evaluation-harness splits them.

        ``add_bos`` puts the prefix token before a non-empty context too, for models trained
        with a BOS at the start of every sequence (the harness does not).
        """
        split: list[tuple[str, str]] = []
        for context, continuation in pairs:
            n_spaces = len(context) - len(context.rstrip())
            if context and n_spaces > 0:
                continuation = context[-n_spaces:] + continuation
                context = context[:-n_spaces]
            split.append((context, continuation))
        bare = self._encode_many([x for c, x in split if c == ""], add_special_tokens=False)
        full = self._encode_many([t for c, x in split if c for t in (c, c + x)], add_special_tokens=None)
        out: list[tuple[list[int], list[int]]] = []
        for context, continuation in split:
            if context == "":
                cont = bare[continuation]
                if cont and cont[0] == self.prefix_token_id:
                    out.append((cont[:1], cont[1:]))
                else:
                    out.append(([self.prefix_token_id], cont))
                continue
            ctx, whole = full[context], full[context + continuation]
            bos = [self.prefix_token_id] if add_bos and (not ctx or ctx[0] != self.prefix_token_id) else []
            out.append((bos + ctx, whole[len(ctx):]))
        return out

    def encode_pair(self, context: str, continuation: str, *,
                    add_bos: bool = False) -> tuple[list[int], list[int]]:
        """One pair of :meth:`encode_pairs`."""
        return self.encode_pairs([(context, continuation)], add_bos=add_bos)[0]

    # ---- log-likelihood ----------------------------------------------------------------------

    def loglikelihood(
        self,
        pairs: Sequence[tuple[str, str]],
        *,
        add_bos: bool = False,
        per_token: bool = False,
        progress: ProgressCallback | None = None,
    ) -> list[LoglikelihoodResult]:
        """``log p(continuation | context)`` for each ``(context, continuation)`` pair; with
        ``per_token``, also the continuation's tokens and each one's log-probability."""
        return self.loglikelihood_tokens(self.encode_pairs(pairs, add_bos=add_bos), per_token=per_token,
                                         progress=progress)

    def loglikelihood_tokens(
        self,
        requests: Sequence[tuple[Sequence[int], Sequence[int]]],
        *,
        per_token: bool = False,
        progress: ProgressCallback | None = None,
    ) -> list[LoglikelihoodResult]:
        """The same on token ids; a continuation must be non-empty (an empty context stands for
        the prefix token)."""
        import torch

        sequences: list[list[int]] = []
        context_lengths: list[int] = []
        for i, (ctx_seq, cont_seq) in enumerate(requests):
            ctx, cont = list(ctx_seq), list(cont_seq)
            if not cont:
                raise ValueError(f"request {i} has an empty continuation")
            if not ctx:
                ctx = [self.prefix_token_id]
            if len(ctx) + len(cont) > self.max_length:  # truncate from the left, as the harness does
                cont = cont[-(self.max_length - 1):]
                ctx = ctx[-(self.max_length - len(cont)):]
            sequences.append(ctx + cont)
            context_lengths.append(len(ctx))
        with torch.inference_mode():
            share = self._use_tree(sequences, context_lengths)
            logprob, misses, tokens = self._score(sequences, context_lengths, tree=share, per_token=per_token,
                                                  progress=progress)
        results = []
        start = 0
        for lp, miss, seq, c in zip(logprob.tolist(), misses.tolist(), sequences, context_lengths):
            n = len(seq) - c
            extra = {"tokens": tuple(seq[c:]), "token_logprobs": tuple(tokens[start:start + n].tolist())} if tokens is not None else {}
            results.append(LoglikelihoodResult(logprob=lp, is_greedy=miss == 0, n_tokens=n, **extra))
            start += n
        return results

    def _use_tree(self, sequences: list[list[int]], context_lengths: list[int]) -> bool:
        """Whether to pack prefix trees: as configured, else checked once against plain rows on
        (up to) the first 8 requests in token order, which share prefixes if any do."""
        import torch

        if self.share is not None:
            return self.share
        attn = getattr(self._config, "_attn_implementation", None)
        if attn not in (None, "eager", "sdpa"):
            log.info("scoring with plain rows: %s attention takes no custom 4-D mask", attn)
            self.share = False
            return False
        probe = sorted(range(len(sequences)), key=sequences.__getitem__)[:8]
        seqs = [sequences[i] for i in probe]
        ctx = [context_lengths[i] for i in probe]
        try:
            results = [self._score(seqs, ctx, tree=tree)[0] for tree in (True, False)]
        except (TypeError, ValueError, RuntimeError) as exc:  # the model refused the 4-D mask
            log.info("scoring with plain rows: the model does not take tree rows (%s)", exc)
            self.share = False
            return False
        n_tokens = torch.tensor([len(s) - c for s, c in zip(seqs, ctx)], dtype=torch.float64)
        half = self._dtype() in (torch.float16, torch.bfloat16)
        tolerance = (3e-2 if half else 1e-3) * n_tokens
        self.share = bool(((results[0] - results[1]).abs() <= tolerance).all())
        if not self.share:
            log.warning("scoring with plain rows: tree rows disagree with plain rows on this model")
        return self.share

    def _score(self, sequences: list[list[int]], context_lengths: list[int], *, tree: bool,
               per_token: bool = False, progress: ProgressCallback | None = None) -> tuple[Any, Any, Any]:
        """Per request: summed log-probability and count of tokens greedy decoding would miss; with
        ``per_token``, every continuation token's log-probability, requests one after another."""
        import torch

        logprob = torch.zeros(len(sequences), dtype=torch.float64)
        misses = torch.zeros(len(sequences), dtype=torch.float64)
        tokens = (torch.zeros(sum(len(s) - c for s, c in zip(sequences, context_lengths)), dtype=torch.float64)
                  if per_token else None)
        done = 0
        for batch in self._batches(_pack(sequences, context_lengths, row_tokens=self.row_tokens, share=tree)):
            owners, slots, picked, missed = self._score_rows(batch, tree=tree)
            logprob.index_add_(0, owners, picked)
            misses.index_add_(0, owners, missed)
            if tokens is not None:
                tokens[slots] = picked
            done += sum(r.n_requests for r in batch)
            if progress is not None:
                progress(done, len(sequences))
        return logprob, misses, tokens

    def _batches(self, rows: list[_Row]) -> list[list[_Row]]:
        """Consecutive rows (longest first), at most ``batch_size`` of them and at most
        ``batch_size * row_tokens`` padded tokens (always at least one row)."""
        budget = self.batch_size * self.row_tokens
        batches: list[list[_Row]] = []
        current: list[_Row] = []
        for row in rows:
            width = len(current[0].tokens) if current else len(row.tokens)
            if current and (len(current) >= self.batch_size or (len(current) + 1) * width > budget):
                batches.append(current)
                current = []
            current.append(row)
        if current:
            batches.append(current)
        return batches

    def _forward(self, **inputs: Any) -> Any:
        """Per-position states: backbone hidden states when the head is split off, else logits."""
        if self._split_head:
            return self._backbone(**inputs).last_hidden_state
        return self.model(**inputs).logits

    def _cache_of(self, out: Any) -> Any:
        return out["cache"] if "cache" in out else out.past_key_values

    def _device(self) -> Any:
        return next(self.model.parameters()).device

    def _dtype(self) -> Any:
        return next(self.model.parameters()).dtype

    def _score_rows(self, batch: list[_Row], *, tree: bool) -> tuple[Any, Any, Any, Any]:
        """Every scored token of the batch's rows: its request, its slot, its log-probability and
        whether greedy decoding would miss it (1.0) or produce it (0.0); CPU tensors."""
        import numpy as np
        import torch

        device = self._device()
        B = len(batch)
        R = max(len(r.tokens) for r in batch)
        ids = np.full((B, R), self.pad_token_id, dtype=np.int64)
        depth = np.zeros((B, R), dtype=np.int64)
        end = np.tile(np.arange(R), (B, 1))  # a pad attends to itself alone
        for b, row in enumerate(batch):
            n = len(row.tokens)
            ids[b, :n] = row.tokens
            depth[b, :n] = row.depth
            end[b, :n] = row.end
        inputs: dict[str, Any] = {"input_ids": torch.from_numpy(ids).to(device), "use_cache": False}
        if tree:
            pos = np.arange(R)
            allowed = (pos[None, None, :] <= pos[None, :, None]) & (pos[None, :, None] <= end[:, None, :])
            allowed_t = torch.from_numpy(allowed)[:, None]
            if self._bool_mask:  # SDPA takes a boolean mask (True: attend) as it is
                inputs["attention_mask"] = allowed_t.to(device)
            else:  # an additive mask, as eager attention adds it to the scores
                dtype = self._dtype()
                mask = torch.zeros((B, 1, R, R), dtype=dtype)
                mask.masked_fill_(~allowed_t, torch.finfo(dtype).min)
                inputs["attention_mask"] = mask.to(device)
            inputs["position_ids"] = torch.from_numpy(depth).to(device)
        else:  # right padding: real tokens keep positions 0..len-1
            lengths = np.array([len(r.tokens) for r in batch])
            inputs["attention_mask"] = torch.from_numpy((np.arange(R)[None, :] < lengths[:, None]).astype(np.int64)).to(device)
        states = self._forward(**inputs)  # B, R, H (or logits B, R, V)
        states = states.reshape(B * R, states.shape[-1])

        # scored entries: the flat index of the node whose output predicts each, its target, owner
        flat_t = torch.from_numpy(np.concatenate(
            [np.asarray(row.predictors, dtype=np.int64) + b * R for b, row in enumerate(batch)])).to(device)
        targets = torch.tensor([t for row in batch for t in row.targets], device=device)
        owners = torch.tensor([o for row in batch for o in row.owners])
        slots = torch.tensor([t for row in batch for t in row.slots])
        nodes_t, inverse = torch.unique(flat_t, return_inverse=True)  # each predicting node once
        order = torch.argsort(inverse, stable=True)  # entries grouped by node, for chunks
        inverse = inverse[order]
        target_t = targets[order]
        order_cpu = order.cpu()
        owner_t, slot_t = owners[order_cpu], slots[order_cpu]
        vocab = self._head.out_features if self._split_head and hasattr(self._head, "out_features") else states.shape[-1]
        chunk = max(_HEAD_CHUNK_MIN_ROWS,
                    _HEAD_CHUNK_FLOATS.get(device.type, _HEAD_CHUNK_FLOATS_DEFAULT) // max(1, int(vocab)))
        bounds = torch.searchsorted(inverse, torch.arange(0, len(nodes_t) + chunk, chunk, device=device)).tolist()
        picked_parts: list[Any] = []
        hit_parts: list[Any] = []
        for k, start in enumerate(range(0, len(nodes_t), chunk)):
            lo, hi = bounds[k], bounds[k + 1]
            rows_out = states[nodes_t[start:start + chunk]]
            logits = self._head(rows_out) if self._split_head else rows_out
            lp = torch.log_softmax(logits.float(), dim=-1)
            local = inverse[lo:hi] - start
            tgt = target_t[lo:hi]
            picked = lp[local, tgt]
            hit = picked >= lp.amax(dim=-1)[local]
            if bool(hit.any()):  # a tie for the maximum goes to the first index, as argmax does
                hit[hit.clone()] = lp[local[hit]].argmax(dim=-1) == tgt[hit]
            picked_parts.append(picked)
            hit_parts.append(hit)
        picked_all = torch.cat(picked_parts).double().cpu()
        miss_all = (~torch.cat(hit_parts)).double().cpu()
        return owner_t, slot_t, picked_all, miss_all

    # ---- generation --------------------------------------------------------------------------

    def generate(
        self,
        prompts: Sequence[str],
        *,
        max_new_tokens: int = 64,
        stop: Sequence[str] = (),
        temperature: float = 0.0,
        seed: int = 0,
        add_bos: bool = False,
        add_special_tokens: bool | None = None,
        progress: ProgressCallback | None = None,
    ) -> list[str]:
        """Continuations of ``prompts``, cut before the first stop string (greedy when
        ``temperature`` is 0, else sampled from a generator seeded with ``seed``).

        ``add_special_tokens=False`` encodes prompts as they are (a chat template's rendering
        already holds its special tokens)."""
        import torch

        def framed(ids: list[int]) -> list[int]:
            # one BOS: a tokenizer that adds its own (Llama-style) already put it there, as
            # encode_pairs does for the log-likelihood side
            if add_bos and not (ids and ids[0] == self.prefix_token_id):
                ids = [self.prefix_token_id, *ids]
            return ids or [self.prefix_token_id]

        encoded = [framed(self.encode(p, add_special_tokens=add_special_tokens)) for p in prompts]
        budget = max(1, min(max_new_tokens, self.max_length - 1))
        encoded = [e[-(self.max_length - budget):] for e in encoded]
        order = sorted(range(len(prompts)), key=lambda i: -len(encoded[i]))
        out: list[str] = [""] * len(prompts)
        gen = torch.Generator(device="cpu").manual_seed(seed)
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                texts = self._generate_batch([encoded[i] for i in idx], budget, stop, temperature, gen)
                for i, text in zip(idx, texts):
                    out[i] = text
                if progress is not None:
                    progress(min(start + self.batch_size, len(order)), len(order))
        return out

    def _end_token_ids(self) -> set[int]:
        """Tokens that end a generation: the tokenizer's EOS and the model's generation-config
        EOS ids (an instruct model's end-of-turn token may only be listed there)."""
        ids = {self.tokenizer.eos_token_id}
        inner = self.model.get_base_model() if hasattr(self.model, "get_base_model") else self.model
        configured = getattr(getattr(inner, "generation_config", None), "eos_token_id", None)
        ids.update(configured if isinstance(configured, (list, tuple)) else [configured])
        return {int(i) for i in ids if i is not None}

    def _generate_batch(
        self, prompts: list[list[int]], max_new_tokens: int, stop: Sequence[str],
        temperature: float, gen: Any,
    ) -> list[str]:
        import torch

        device = self._device()
        B = len(prompts)
        L = max(len(p) for p in prompts)
        ids = torch.full((B, L), self.pad_token_id, dtype=torch.long)
        mask = torch.zeros((B, L), dtype=torch.long)
        for b, p in enumerate(prompts):  # left padding: every row's next token is at the end
            ids[b, L - len(p):] = torch.tensor(p)
            mask[b, L - len(p):] = 1
        ids, mask = ids.to(device), mask.to(device)
        position_ids = (mask.cumsum(-1) - 1).clamp(min=0)  # B, L
        eos = self._end_token_ids()
        new_tokens: list[list[int]] = [[] for _ in range(B)]
        finished = [False] * B
        texts: list[str | None] = [None] * B
        cache = None
        step_ids, step_pos = ids, position_ids
        for _ in range(max_new_tokens):
            out = self.model(input_ids=step_ids, attention_mask=mask, position_ids=step_pos,
                             use_cache=True, **{self._cache_arg: cache}, **self._last_logits)
            cache = self._cache_of(out)
            logits = out.logits[:, -1, :].float()  # B, V
            if temperature > 0:
                nxt = sample_tokens(logits, temperature, gen)
            else:
                nxt = logits.argmax(dim=-1)
            for b, tok in enumerate(nxt.tolist()):
                if finished[b]:
                    continue
                if tok in eos:
                    finished[b] = True
                    continue
                new_tokens[b].append(tok)
                if stop:
                    text = self.tokenizer.decode(new_tokens[b], skip_special_tokens=True)
                    cuts = [text.find(s) for s in stop if s in text]
                    if cuts:
                        texts[b] = text[: min(cuts)]
                        finished[b] = True
            if all(finished):
                break
            step_ids = nxt[:, None]
            mask = torch.cat([mask, torch.ones((B, 1), dtype=mask.dtype, device=device)], dim=1)
            step_pos = step_pos[:, -1:] + 1
        result: list[str] = []
        for b in range(B):
            if texts[b] is None:
                text = self.tokenizer.decode(new_tokens[b], skip_special_tokens=True)
                cuts = [text.find(s) for s in stop if s in text]
                texts[b] = text[: min(cuts)] if cuts else text
            result.append(str(texts[b]))
        return result


def split_output_head(model: Any) -> tuple[Any, Any] | None:
    """``(backbone, head)`` of a causal LM whose logits are ``head(backbone(...).last_hidden_state)``
    (so the head can be applied to chosen positions only), or None when the architecture
    post-processes its logits (soft-capping, scaling) or has no separate head. A PEFT model's
    adapter layers sit inside the wrapped model, so its parts carry the adapter."""
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    head = inner.get_output_embeddings() if hasattr(inner, "get_output_embeddings") else None
    backbone = getattr(inner, "base_model", None)
    config = inner.config
    plain_head = not any(getattr(config, a, None) for a in ("final_logit_softcapping", "logit_scale",
                                                               "output_multiplier_scale"))
    if head is None or backbone is None or backbone is inner or not plain_head:
        return None
    return backbone, head


def sample_tokens(logits: Any, temperature: float, gen: Any) -> Any:
    """One token per row drawn from ``softmax(logits / temperature)``, by the Gumbel-max trick:
    a seeded uniform per vocabulary entry and an argmax (``torch.multinomial`` walks a cumulative
    sum per row, several times slower for a small model's batch)."""
    import torch

    uniform = torch.rand(logits.shape, generator=gen).clamp_(min=1e-20).to(logits.device)
    return (logits / temperature - torch.log(-torch.log(uniform))).argmax(dim=-1)
