"""The training loop: a plain PyTorch loop, read top to bottom.

``train_model(config, records)`` builds the tokenizer and model (``tiny`` or ``hf:``), encodes
the records with the chosen mitigations, trains with AdamW on length-grouped batches and returns
the trained model with its metadata and loss curve; ``save_trained`` writes the model folder.
The loss terms are the pure functions of ``train/loss.py``; the mitigations only change what the
data pipeline feeds them (token: a prefix; mask: labels; loss: weights and a second forward pass
on the counterfactual).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import math
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from biasinherit.errors import BiasInheritError
from biasinherit.formats import context_of, training_text
from biasinherit.models.io import ModelMetadata, package_versions, save_model
from biasinherit.models.scoring import split_output_head
from biasinherit.records import Record
from biasinherit.training.config import TrainConfig
from biasinherit.training.counterfactual import aligned_prediction_positions, counterfactual_texts
from biasinherit.training.data import (
    EncodedExample,
    PretokenizedTexts,
    TextFraming,
    auto_max_length,
    collate,
    encode_example,
    length_grouped_batches,
    padding_efficiency,
    positional_batches,
)
from biasinherit.training.loss import counterfactual_divergence, labelled_token_nll, source_weighted_loss, token_nll
from biasinherit.training.mask import MASK_PLACEHOLDER, bias_spans, replace_spans
from biasinherit.training.token import check_sources, eval_prefix, tag_tokens, training_prefix

__all__ = ["ProgressCallback", "TrainResult", "records_hash", "save_trained", "train_model"]

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int, float], None]  # (step, total_steps, loss)


@dataclass
class TrainResult:
    model: Any
    tokenizer: Any
    metadata: ModelMetadata
    loss_curve: list[dict[str, float]]

    @property
    def final_loss(self) -> float:
        return self.metadata.final_loss if self.metadata.final_loss is not None else math.nan


def records_hash(records: Sequence[Record]) -> str:
    digest = hashlib.sha256()
    for record in records:
        digest.update(record.to_json().encode())
        digest.update(b"\n")
    return digest.hexdigest()


@contextlib.contextmanager
def _deterministic(seed: int, num_threads: int | None) -> Iterator[None]:
    """Seed every RNG, use deterministic kernels and a fixed thread count; restore the global
    settings afterwards."""
    import torch
    import torch.utils.deterministic

    previous = torch.are_deterministic_algorithms_enabled()
    previous_fill = torch.utils.deterministic.fill_uninitialized_memory
    previous_threads = torch.get_num_threads()
    torch.use_deterministic_algorithms(True, warn_only=True)
    # deterministic mode also writes NaN into every new tensor (a guard against reading memory no
    # kernel wrote, which none of ours does): 5% of a SmolLM2 LoRA step, the same losses without it
    torch.utils.deterministic.fill_uninitialized_memory = False
    if num_threads is not None:
        torch.set_num_threads(num_threads)
    random.seed(seed)
    torch.manual_seed(seed)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous)
        torch.utils.deterministic.fill_uninitialized_memory = previous_fill
        torch.set_num_threads(previous_threads)


# ---- model and tokenizer --------------------------------------------------------------------


@dataclass
class _Built:
    model: Any
    tokenizer: Any
    framing: TextFraming
    device: str
    base_model: str
    autocast_dtype: Any = None  # the forward pass's dtype when the weights stay float32 (training_dtypes)


def _special_tokens(config: TrainConfig) -> list[str]:
    tokens: list[str] = []
    if "token" in config.mitigations:
        tokens += tag_tokens(tag_original=config.tag_original)
    if "mask" in config.mitigations and config.mask_replace_input:
        tokens.append(MASK_PLACEHOLDER)
    return tokens


# every special token any mitigation needs is reserved in a tiny tokenizer, so one pretrained
# base serves all training conditions
_TINY_SPECIALS = [*tag_tokens(tag_original=True), MASK_PLACEHOLDER]


def _build_tiny(config: TrainConfig, records: Sequence[Record]) -> _Built:
    from biasinherit.models.hf import pick_device
    from biasinherit.models.tiny import build_tiny_model, tiny_preset, train_tiny_tokenizer

    preset = tiny_preset(config.model)
    texts = (training_text(r.prompt, r.response) for r in records)
    tokenizer = train_tiny_tokenizer(texts, vocab_size=config.vocab_size, extra_special_tokens=_TINY_SPECIALS)
    device = pick_device(config.device)
    model = build_tiny_model(preset, tokenizer, seed=config.seed).to(device)
    framing = TextFraming(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        max_length=min(config.max_length or preset.max_positions, preset.max_positions),
    )
    return _Built(model, tokenizer, framing, device, preset.name)


def _build_from_base(config: TrainConfig, base: TrainResult) -> _Built:
    """Fine-tune a copy of an already trained tiny model (the study's pretrained base)."""
    import copy

    from biasinherit.models.hf import pick_device

    tokenizer = base.tokenizer
    vocab = tokenizer.get_vocab()
    missing = [t for t in _special_tokens(config) if t not in vocab]
    if missing:
        raise BiasInheritError(f"the base model's tokenizer lacks {', '.join(missing)}; "
                               "pretrain it with this version of biasinherit", field="model")
    device = pick_device(config.device)
    model = copy.deepcopy(base.model).to(device)
    framing = TextFraming(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        max_length=min(config.max_length or model.config.n_positions, model.config.n_positions),
    )
    return _Built(model, tokenizer, framing, device, f"{base.metadata.base_model}+pretrained")


_FALLBACK_LIMIT = 2048  # a model config without max_position_embeddings


def _build_hf(config: TrainConfig, preloaded: tuple[Any, Any] | None = None) -> _Built:
    """The model ``config.model`` names, or ``preloaded`` (a model and tokenizer already in
    memory, trained in place as ``transformers.Trainer`` would)."""
    from biasinherit.models.hf import (
        apply_lora,
        load_hf_causal_lm,
        load_hf_tokenizer,
        pick_device,
        training_dtypes,
    )

    path = config.model[len("hf:"):]
    autocast_dtype = None
    if preloaded is not None:
        model, tokenizer = preloaded
        device = str(next(model.parameters()).device)
    else:
        if Path(path).exists():
            path = str(Path(path).resolve())  # an adapter records where its base lives
        device = pick_device(config.device)
        tokenizer = load_hf_tokenizer(path)
    if tokenizer.eos_token_id is None:
        raise BiasInheritError("the tokenizer has no EOS token; training needs one", path=path)
    if tokenizer.pad_token_id is None:  # batches are padded; the pad positions carry no loss
        tokenizer.pad_token = tokenizer.eos_token
    if preloaded is None:
        load_dtype, autocast_dtype = training_dtypes(config.dtype, device, lora=config.lora)
        model = load_hf_causal_lm(path, dtype=load_dtype, device=device)
    specials = _special_tokens(config)
    new_ids: list[int] = []
    if specials:
        tokenizer.add_tokens(specials, special_tokens=True)
        new_ids = tokenizer.convert_tokens_to_ids(specials)
        if model.get_input_embeddings().weight.shape[0] < len(tokenizer):
            model.resize_token_embeddings(len(tokenizer))
    if config.gradient_checkpointing:
        model.gradient_checkpointing_enable()
        model.config.use_cache = False
        if config.lora:
            model.enable_input_require_grads()
    if config.lora:
        model = apply_lora(
            model, r=config.lora_r, alpha=config.lora_alpha, dropout=config.lora_dropout,
            trainable_token_ids=new_ids or None,
        )
    limit = getattr(model.config, "max_position_embeddings", None) or config.max_length or _FALLBACK_LIMIT
    framing = TextFraming(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        max_length=min(config.max_length or limit, limit),
    )
    return _Built(model, tokenizer, framing, device, path, autocast_dtype)


# ---- data -----------------------------------------------------------------------------------


def _pick_max_length(config: TrainConfig, records: Sequence[Record], built: _Built, tokenizer: Any) -> None:
    """Without a configured ``max_length``, size sequences to the data: the longest record's
    plain length (``auto_max_length``)."""
    if config.max_length is not None:
        return
    lengths = [len(encode_example(tokenizer, built.framing, prompt=r.prompt, response=r.response)[0])
               for r in records]
    built.framing = dataclasses.replace(built.framing, max_length=auto_max_length(lengths, built.framing.max_length))
    log.info("max_length %d (from the data)", built.framing.max_length)


def _encode(config: TrainConfig, records: Sequence[Record], built: _Built) -> list[EncodedExample]:
    mitigations = set(config.mitigations)
    # every context and response in one batched tokenizer call (prefixes are few, and masked
    # or swapped texts go to the tokenizer itself)
    tokenizer = PretokenizedTexts(built.tokenizer, [t for r in records for t in (context_of(r.prompt), r.response)])
    _pick_max_length(config, records, built, tokenizer)
    taxonomy = swapper = None
    if "mask" in mitigations or "loss" in mitigations:
        from biasinherit.taxonomy import load_taxonomy

        taxonomy = load_taxonomy()
        if "loss" in mitigations:
            taxonomy.attribute(config.cf_attribute)  # unknown attribute: did-you-mean
    if "loss" in mitigations and config.mu_cf > 0:
        from biasinherit.taxonomy.swapper import CounterfactualSwapper

        swapper = CounterfactualSwapper()
    examples: list[EncodedExample] = []
    for record in records:
        augmented = record.source == "augmented"
        prefix = training_prefix(record, tag_original=config.tag_original) if "token" in mitigations else ""
        response, spans = record.response, []
        if "mask" in mitigations and augmented:
            spans = bias_spans(record, taxonomy, config.mask_source)
            if config.mask_replace_input:
                response, spans = replace_spans(response, spans)
        ids, labels, start = encode_example(
            tokenizer, built.framing, prompt=record.prompt, response=response, prefix=prefix,
            mask_spans=spans,
        )
        example = EncodedExample(ids, labels, augmented, start)
        if swapper is not None and augmented:
            swapped = counterfactual_texts(swapper, record.prompt, response, config.cf_attribute)
            if swapped is not None:
                cf_ids, _, cf_start = encode_example(
                    tokenizer, built.framing, prompt=swapped[0], response=swapped[1], prefix=prefix
                )
                example.cf_input_ids = cf_ids
                example.cf_positions = aligned_prediction_positions(ids, cf_ids, start, cf_start)
        examples.append(example)
    return examples


# ---- loss of one batch ----------------------------------------------------------------------


def _batch_loss(
    model: Any, batch: Sequence[EncodedExample], config: TrainConfig, pad_id: int, device: str,
    head_parts: tuple[Any, Any] | None = None,
) -> Any:
    """The batch's loss. With the loss mitigation, the counterfactuals' distributions come from
    a forward pass without gradient (the target the records' predictions are pulled towards),
    which keeps the mitigation's cost to one extra forward pass instead of a forward+backward.
    ``head_parts``: the model's ``(backbone, head)`` (``split_output_head``), when it has them."""
    import torch

    tensors = collate([e.input_ids for e in batch], [e.labels for e in batch], pad_id)
    tensors = {k: v.to(device) for k, v in tensors.items()}
    use_loss_mitigation = "loss" in config.mitigations
    rows = [k for k, e in enumerate(batch) if e.cf_positions]
    divergence_term = use_loss_mitigation and config.mu_cf > 0 and bool(rows)
    parts = None if divergence_term else head_parts
    if parts is not None:
        # the output head on the labelled positions only (prompts carry no loss: about two thirds
        # of a corpus mix's tokens), the same loss as the full logits give
        backbone, head = parts
        hidden = backbone(input_ids=tensors["input_ids"], attention_mask=tensors["attention_mask"],
                          use_cache=False).last_hidden_state  # (B, T, H)
        nll, mask = labelled_token_nll(hidden, head, tensors["labels"])
    else:
        logits = model(
            input_ids=tensors["input_ids"], attention_mask=tensors["attention_mask"], use_cache=False
        ).logits  # (B, T, V)
        nll, mask = token_nll(logits, tensors["labels"])
    augmented = torch.tensor([e.augmented for e in batch], device=nll.device)
    loss = source_weighted_loss(nll, mask, augmented, config.lambda_aug if use_loss_mitigation else 1.0)
    if divergence_term:
        cf = collate([batch[k].cf_input_ids or [] for k in rows], None, pad_id)
        with torch.no_grad():
            cf_logits = model(
                input_ids=cf["input_ids"].to(device), attention_mask=cf["attention_mask"].to(device),
                use_cache=False,
            ).logits  # (C, T', V)
        row_a, pos_a, row_b, pos_b = [], [], [], []
        for c, k in enumerate(rows):
            for p, q in batch[k].cf_positions:
                row_a.append(k)
                pos_a.append(p)
                row_b.append(c)
                pos_b.append(q)
        divergence = counterfactual_divergence(logits[row_a, pos_a], cf_logits[row_b, pos_b])
        loss = loss + config.mu_cf * divergence
    return loss


# ---- the loop -------------------------------------------------------------------------------


def train_model(
    config: TrainConfig,
    records: Sequence[Record],
    *,
    data_path: str = "<records>",
    record_lines: Sequence[int] | None = None,
    progress: ProgressCallback | None = None,
    base: TrainResult | None = None,
    preloaded: tuple[Any, Any] | None = None,
) -> TrainResult:
    """Train on ``records`` as ``config`` says; nothing is written (see :func:`save_trained`).

    ``base``: a trained tiny model to fine-tune (a copy; the base is left as it is) instead of
    building one from scratch; ``config.model`` must then be a tiny preset. ``preloaded``: a
    ``transformers`` model and its tokenizer already in memory (``config.model`` is then
    ``hf:<its name>``, for the provenance); it is trained in place."""
    import torch

    if not records:
        raise BiasInheritError("no records to train on", path=data_path)
    if "token" in config.mitigations:
        check_sources(records, path=data_path, lines=record_lines)
        if not any(r.source == "augmented" for r in records):
            log.warning("token mitigation: the mix has no augmented records; no tag will be learned")
    with _deterministic(config.seed, config.effective_num_threads()):
        if base is not None:
            if config.is_hf:
                raise BiasInheritError("a pretrained base applies to tiny models; hf models are their own base",
                                       field="model")
            built = _build_from_base(config, base)
        else:
            built = _build_hf(config, preloaded) if config.is_hf else _build_tiny(config, records)
        examples = _encode(config, records, built)
        if not any(label >= 0 for e in examples for label in e.labels):  # -100: no loss here
            raise BiasInheritError(
                f"no token to learn: every response is cut off by max_length {config.max_length} "
                "(raise --max-length or shorten the prompts)", path=data_path, field="max_length")
        model, device = built.model, built.device
        pad_id = built.tokenizer.pad_token_id
        head_parts = split_output_head(model)
        params = [p for p in model.parameters() if p.requires_grad]
        lr = config.effective_learning_rate()
        # the fused step (one kernel per parameter, on CPU and CUDA): on CPU the default and even
        # the multi-tensor step run a dozen small operations per parameter, a fifth of a tiny
        # model's step; elsewhere (MPS) the multi-tensor step
        fused = torch.device(device).type in ("cpu", "cuda")
        optimizer = torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.95), weight_decay=config.weight_decay,
                                      **({"fused": True} if fused else {"foreach": True}))
        lengths = [len(e) for e in examples]
        epochs = config.effective_epochs()
        n_batches = math.ceil(len(examples) / config.batch_size)
        steps_per_epoch = math.ceil(n_batches / config.grad_accum_steps)
        total_steps = epochs * steps_per_epoch
        warmup = max(1, round(config.warmup_ratio * total_steps))
        if config.lr_schedule == "constant":
            def factor(s: int) -> float:
                return min(1.0, (s + 1) / warmup)
        else:
            def factor(s: int) -> float:
                return min((s + 1) / warmup, max(0.0, (total_steps - s) / max(1, total_steps - warmup)))
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
        n_params = sum(p.numel() for p in params)
        log.info("training %s (%d trainable parameters) on %d records, %d steps", built.base_model,
                 n_params, len(examples), total_steps)

        forward_dtype = (torch.autocast(torch.device(device).type, dtype=built.autocast_dtype)
                         if built.autocast_dtype is not None else contextlib.nullcontext())
        model.train()
        curve: list[dict[str, float]] = []
        step, tokens, started = 0, 0, time.perf_counter()
        for epoch in range(epochs):
            if config.batching == "position":
                batches = positional_batches(len(lengths), config.batch_size, seed=config.seed, epoch=epoch)
            else:
                batches = length_grouped_batches(lengths, config.batch_size, seed=config.seed, epoch=epoch)
            if epoch == 0:
                log.info("padding efficiency %.3f", padding_efficiency(lengths, batches))
            accumulated = 0.0
            for b, indices in enumerate(batches):
                with forward_dtype:
                    loss = _batch_loss(model, [examples[i] for i in indices], config, pad_id, device, head_parts)
                (loss / config.grad_accum_steps).backward()
                accumulated += loss.item() / config.grad_accum_steps
                tokens += sum(lengths[i] for i in indices)
                if (b + 1) % config.grad_accum_steps and b + 1 != len(batches):
                    continue
                if config.max_grad_norm > 0:
                    torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                step += 1
                curve.append({"step": step, "epoch": epoch, "loss": accumulated,
                              "lr": scheduler.get_last_lr()[0]})
                accumulated = 0.0
                if progress is not None:
                    progress(step, total_steps, curve[-1]["loss"])
        model.eval()
        if built.autocast_dtype is not None:  # evaluated and saved as loading it in that dtype would give
            model.to(built.autocast_dtype)
        elapsed = time.perf_counter() - started
        last_epoch = [c["loss"] for c in curve if c["epoch"] == epochs - 1]
        final_loss = sum(last_epoch) / len(last_epoch)
        log.info("trained in %.1fs, %.0f tokens/s, final loss %.6f", elapsed, tokens / elapsed, final_loss)

    metadata = ModelMetadata(
        backend="hf" if config.is_hf else "tiny",
        base_model=built.base_model,
        adapter=config.lora,
        mitigations=list(config.mitigations),
        eval_prefix=eval_prefix(tag_original=config.tag_original) if "token" in config.mitigations else "",
        add_bos=built.framing.bos_token_id is not None,
        data_hash=records_hash(records),
        n_records=len(records),
        seed=config.seed,
        final_loss=final_loss,
        train_config={**config.model_dump(), "epochs": epochs, "learning_rate": lr,
                      "max_length": built.framing.max_length},
        versions=package_versions(),
        train_seconds=round(elapsed, 3),
        tokens_per_second=round(tokens / elapsed, 1),
    )
    return TrainResult(model=model, tokenizer=built.tokenizer, metadata=metadata, loss_curve=curve)


def save_trained(result: TrainResult, out_dir: str | Path) -> Path:
    """Write the model folder (weights or adapter, tokenizer, metadata, loss curve)."""
    return save_model(result.model, result.tokenizer, out_dir, result.metadata, loss_curve=result.loss_curve)
