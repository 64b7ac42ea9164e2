"""Log-likelihood and generation for any Hugging Face causal LM, batched.

Log-likelihood: requests that share a context are scored as one *group*. The group's shared
prefix (the context plus the longest token prefix common to all its options) is run once; its
KV cache is then expanded across the options (``Cache.reorder_cache`` with a repeating index) and
only each option's remaining tokens are run. Groups are sorted by length so a batch holds
sequences of similar length and little padding. Only the positions that are scored go through
``log_softmax``, never the whole ``[batch, time, vocab]`` block.

Tokenization matches lm-evaluation-harness (``lm_eval.api.model.TemplateLM``): trailing spaces
of the context move to the continuation, the whole string is encoded and split at the context's
length; an empty context is the prefix token (BOS, else EOS), so scores can be compared with it.

Generation: greedy by default (or seeded sampling), left-padded batches sorted by length, a KV
cache, and stop strings checked on the decoded text of each row.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["CausalLMScorer", "LoglikelihoodResult", "ProgressCallback"]

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]  # (done, total)


@dataclass(frozen=True)
class LoglikelihoodResult:
    """Sum of log-probabilities of a continuation, whether greedy decoding yields it, its length."""

    logprob: float
    is_greedy: bool
    n_tokens: int


@dataclass
class _Group:
    """One context and the options scored after it (indices into the request list)."""

    context: list[int]
    requests: list[int]
    options: list[list[int]]
    shared: list[int]  # context + common prefix of the options
    suffixes: list[list[int]]  # option tokens after the shared prefix (each non-empty)

    @property
    def length(self) -> int:
        return len(self.shared) + max(len(s) for s in self.suffixes)


def _common_prefix_length(seqs: Sequence[Sequence[int]]) -> int:
    first = seqs[0]
    n = min(len(s) for s in seqs)
    for i in range(n):
        if any(s[i] != first[i] for s in seqs[1:]):
            return i
    return n


class CausalLMScorer:
    """Scores and generates with a loaded causal LM and its tokenizer.

    ``batch_size`` counts option rows per forward pass. ``prefix_token_id`` is the token an empty
    context is conditioned on (default: BOS, else EOS, as the harness does).
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        batch_size: int = 32,
        prefix_token_id: int | None = None,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = max(1, int(batch_size))
        if prefix_token_id is None:
            prefix_token_id = tokenizer.bos_token_id
            if prefix_token_id is None:
                prefix_token_id = tokenizer.eos_token_id
        if prefix_token_id is None:
            raise ValueError("the tokenizer has neither a BOS nor an EOS token to condition on")
        self.prefix_token_id = int(prefix_token_id)
        pad = tokenizer.pad_token_id
        self.pad_token_id = int(pad if pad is not None else self.prefix_token_id)
        # transformers 5.2x renamed ``past_key_values`` to ``cache`` (argument and output)
        params = inspect.signature(model.forward).parameters
        self._cache_arg = "cache" if "cache" in params else "past_key_values"
        config = model.config
        # The output head is applied only to the scored positions (hidden states of the
        # backbone -> lm_head on gathered rows) unless the architecture post-processes logits.
        self._head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
        self._backbone = getattr(model, "base_model", None)
        plain_head = not any(getattr(config, a, None) for a in ("final_logit_softcapping", "logit_scale",
                                                                   "output_multiplier_scale"))
        self._split_head = (self._head is not None and self._backbone is not None
                            and self._backbone is not model and plain_head)
        self.max_length = int(getattr(config, "n_positions", None)
                              or getattr(config, "max_position_embeddings", None) or 2048)

    # ---- tokenization (harness-compatible) --------------------------------------------------

    def encode(self, text: str, *, add_special_tokens: bool | None = None) -> list[int]:
        kwargs = {} if add_special_tokens is None else {"add_special_tokens": add_special_tokens}
        return list(self.tokenizer.encode(text, **kwargs))

    def encode_pair(self, context: str, continuation: str, *,
                    add_bos: bool = False) -> tuple[list[int], list[int]]:
        """Context and continuation token ids, split exactly as lm-evaluation-harness splits them.

        ``add_bos`` puts the prefix token before a non-empty context too, for models trained
        with a BOS at the start of every sequence (the harness does not).
        """
        if context == "":
            cont = self.encode(continuation, add_special_tokens=False)
            if cont and cont[0] == self.prefix_token_id:
                return cont[:1], cont[1:]
            return [self.prefix_token_id], cont
        n_spaces = len(context) - len(context.rstrip())
        if n_spaces > 0:
            continuation = context[-n_spaces:] + continuation
            context = context[:-n_spaces]
        whole = self.encode(context + continuation)
        ctx = self.encode(context)
        bos = [self.prefix_token_id] if add_bos and (not ctx or ctx[0] != self.prefix_token_id) else []
        return bos + ctx, whole[len(ctx):]

    # ---- log-likelihood ----------------------------------------------------------------------

    def loglikelihood(
        self,
        pairs: Sequence[tuple[str, str]],
        *,
        add_bos: bool = False,
        progress: ProgressCallback | None = None,
    ) -> list[LoglikelihoodResult]:
        """``log p(continuation | context)`` for each ``(context, continuation)`` pair."""
        encoded = [self.encode_pair(c, x, add_bos=add_bos) for c, x in pairs]
        return self.loglikelihood_tokens(encoded, progress=progress)

    def loglikelihood_tokens(
        self,
        requests: Sequence[tuple[Sequence[int], Sequence[int]]],
        *,
        progress: ProgressCallback | None = None,
    ) -> list[LoglikelihoodResult]:
        """The same on token ids; a continuation must be non-empty."""
        import torch

        groups = self._groups(requests)
        results: list[LoglikelihoodResult | None] = [None] * len(requests)
        done = 0
        with torch.inference_mode():
            for batch in self._batches(groups):
                self._score_batch(batch, results)
                done += sum(len(g.requests) for g in batch)
                if progress is not None:
                    progress(done, len(requests))
        return [r for r in results if r is not None]

    def _groups(self, requests: Sequence[tuple[Sequence[int], Sequence[int]]]) -> list[_Group]:
        by_context: dict[tuple[int, ...], _Group] = {}
        for i, (ctx_seq, cont_seq) in enumerate(requests):
            ctx, cont = list(ctx_seq), list(cont_seq)
            if not cont:
                raise ValueError(f"request {i} has an empty continuation")
            if len(ctx) + len(cont) > self.max_length:  # truncate from the left, as the harness does
                cont = cont[-(self.max_length - 1):]
                ctx = ctx[-(self.max_length - len(cont)):]
            key = tuple(ctx)
            if key not in by_context:
                by_context[key] = _Group(ctx, [], [], [], [])
            by_context[key].requests.append(i)
            by_context[key].options.append(cont)
        groups: list[_Group] = []
        for g in by_context.values():
            groups.extend(self._split(g) if len(g.options) > self.batch_size else [g])
        for g in groups:
            # share the options' common prefix too, but leave every option at least one token
            k = min(_common_prefix_length(g.options), min(len(o) for o in g.options) - 1)
            g.shared = g.context + g.options[0][:k]
            g.suffixes = [o[k:] for o in g.options]
        groups.sort(key=lambda g: (-g.length, g.shared))
        return groups

    def _split(self, group: _Group, min_shared: int = 3) -> list[_Group]:
        """A context with more options than a batch (e.g. CrowS-Pairs: every sentence after
        BOS) becomes several groups: options sorted by their tokens, cut where neighbours share
        less than half their tokens (and at least ``min_shared``) or a group is full, so each
        group's options share a long prefix (a CrowS-Pairs pair shares everything before the
        swapped word) and an option sharing nothing is scored alone, in one pass."""
        order = sorted(range(len(group.options)), key=lambda k: group.options[k])
        clusters: list[list[int]] = []
        current: list[int] = []
        for k in order:
            if current and (
                len(current) >= self.batch_size
                or _common_prefix_length([group.options[current[-1]], group.options[k]])
                < max(min_shared, len(group.options[k]) // 2)
            ):
                clusters.append(current)
                current = []
            current.append(k)
        if current:
            clusters.append(current)
        return [
            _Group(group.context, [group.requests[k] for k in ks], [group.options[k] for k in ks], [], [])
            for ks in clusters
        ]

    def _batches(self, groups: list[_Group]) -> list[list[_Group]]:
        batches: list[list[_Group]] = []
        current: list[_Group] = []
        rows = 0
        for g in groups:
            if current and rows + len(g.options) > self.batch_size:
                batches.append(current)
                current, rows = [], 0
            current.append(g)
            rows += len(g.options)
        if current:
            batches.append(current)
        return batches

    def _forward(self, **inputs: Any) -> tuple[Any, Any]:
        """(output, per-position states): backbone hidden states when the head is split off,
        else the full logits."""
        if self._split_head:
            out = self._backbone(**inputs)
            return out, out.last_hidden_state
        out = self.model(**inputs)
        return out, out.logits

    def _logits(self, states: Any) -> Any:
        return self._head(states) if self._split_head else states

    def _cache_of(self, out: Any) -> Any:
        return out["cache"] if "cache" in out else out.past_key_values

    def _device(self) -> Any:
        return next(self.model.parameters()).device

    def _score_batch(self, batch: list[_Group], results: list[LoglikelihoodResult | None]) -> None:
        import torch

        device = self._device()
        G = len(batch)
        S = max(len(g.shared) for g in batch)
        shared_ids = torch.full((G, S), self.pad_token_id, dtype=torch.long)
        shared_mask = torch.zeros((G, S), dtype=torch.long)
        for gi, g in enumerate(batch):  # right padding: real tokens keep positions 0..len-1
            shared_ids[gi, : len(g.shared)] = torch.tensor(g.shared)
            shared_mask[gi, : len(g.shared)] = 1
        shared_ids, shared_mask = shared_ids.to(device), shared_mask.to(device)
        out, shared_states = self._forward(input_ids=shared_ids, attention_mask=shared_mask, use_cache=True)

        # scored from the shared pass: the options' common prefix, then every option's first
        # suffix token (all predicted by logits of the shared prefix)
        rows_g: list[int] = []
        rows_p: list[int] = []
        targets: list[int] = []
        owner: list[tuple[int, int]] = []  # (group, option) or (group, -1) for the common part
        for gi, g in enumerate(batch):
            for p in range(len(g.context), len(g.shared)):
                rows_g.append(gi)
                rows_p.append(p - 1)
                targets.append(g.shared[p])
                owner.append((gi, -1))
            for oi, suffix in enumerate(g.suffixes):
                rows_g.append(gi)
                rows_p.append(len(g.shared) - 1)
                targets.append(suffix[0])
                owner.append((gi, oi))
        lp, greedy = self._gather(self._logits(shared_states[rows_g, rows_p]), targets)
        common_lp = [0.0] * G
        common_greedy = [True] * G
        option_lp: dict[tuple[int, int], float] = {}
        option_greedy: dict[tuple[int, int], bool] = {}
        for (gi, oi), v, ok in zip(owner, lp, greedy):
            if oi < 0:
                common_lp[gi] += v
                common_greedy[gi] = common_greedy[gi] and ok
            else:
                option_lp[(gi, oi)] = v
                option_greedy[(gi, oi)] = ok

        # option pass: the remaining suffix tokens, after the shared cache expanded to options
        option_rows = [(gi, oi) for gi, g in enumerate(batch) for oi, suf in enumerate(g.suffixes) if len(suf) > 1]
        if option_rows:
            T = max(len(batch[gi].suffixes[oi]) - 1 for gi, oi in option_rows)
            R = len(option_rows)
            index = torch.tensor([gi for gi, _ in option_rows], device=device)
            cache = self._cache_of(out)
            cache.reorder_cache(index)  # row r now holds the cache of its group
            ids = torch.full((R, T), self.pad_token_id, dtype=torch.long)
            mask = torch.zeros((R, T), dtype=torch.long)
            for r, (gi, oi) in enumerate(option_rows):
                inp = batch[gi].suffixes[oi][:-1]
                if inp:
                    ids[r, : len(inp)] = torch.tensor(inp)
                    mask[r, : len(inp)] = 1
            ids, mask = ids.to(device), mask.to(device)
            full_mask = torch.cat([shared_mask[index], mask], dim=1)  # R, S + T
            start = torch.tensor([len(batch[gi].shared) for gi, _ in option_rows], device=device)
            position_ids = start[:, None] + torch.arange(T, device=device)[None, :]  # R, T
            _, states = self._forward(
                input_ids=ids, attention_mask=full_mask, position_ids=position_ids,
                use_cache=True, **{self._cache_arg: cache},
            )  # R, T, H (or logits R, T, V)
            rr: list[int] = []
            tt: list[int] = []
            tgt: list[int] = []
            own: list[tuple[int, int]] = []
            for r, (gi, oi) in enumerate(option_rows):
                suffix = batch[gi].suffixes[oi]
                for j in range(1, len(suffix)):
                    rr.append(r)
                    tt.append(j - 1)
                    tgt.append(suffix[j])
                    own.append((gi, oi))
            lp2, greedy2 = self._gather(self._logits(states[rr, tt]), tgt)
            for key, v, ok in zip(own, lp2, greedy2):
                option_lp[key] += v
                option_greedy[key] = option_greedy[key] and ok

        for gi, g in enumerate(batch):
            for oi, req in enumerate(g.requests):
                results[req] = LoglikelihoodResult(
                    logprob=common_lp[gi] + option_lp[(gi, oi)],
                    is_greedy=common_greedy[gi] and option_greedy[(gi, oi)],
                    n_tokens=len(g.options[oi]),
                )

    @staticmethod
    def _gather(logits: Any, targets: list[int]) -> tuple[list[float], list[bool]]:
        """Log-probabilities of ``targets`` under rows of ``logits`` (K, V), and argmax hits."""
        import torch

        logits = logits.float()
        target = torch.tensor(targets, device=logits.device)
        logprobs = torch.log_softmax(logits, dim=-1)  # K, V
        picked = logprobs.gather(1, target[:, None])[:, 0]
        hits = logits.argmax(dim=-1) == target
        return picked.tolist(), hits.tolist()

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
        progress: ProgressCallback | None = None,
    ) -> list[str]:
        """Continuations of ``prompts``, cut before the first stop string (greedy when
        ``temperature`` is 0, else sampled from a generator seeded with ``seed``)."""
        import torch

        bos = [self.prefix_token_id] if add_bos else []
        encoded = [(bos + self.encode(p)) or [self.prefix_token_id] for p in prompts]
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
        eos = self.tokenizer.eos_token_id
        new_tokens: list[list[int]] = [[] for _ in range(B)]
        finished = [False] * B
        texts: list[str | None] = [None] * B
        cache = None
        step_ids, step_pos = ids, position_ids
        for _ in range(max_new_tokens):
            out = self.model(input_ids=step_ids, attention_mask=mask, position_ids=step_pos,
                             use_cache=True, **{self._cache_arg: cache})
            cache = self._cache_of(out)
            logits = out.logits[:, -1, :].float()  # B, V
            if temperature > 0:
                probs = torch.softmax(logits / temperature, dim=-1).cpu()
                nxt = torch.multinomial(probs, 1, generator=gen)[:, 0].to(device)
            else:
                nxt = logits.argmax(dim=-1)
            for b, tok in enumerate(nxt.tolist()):
                if finished[b]:
                    continue
                if eos is not None and tok == eos:
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
