"""Training throughput: our trainer against the plain Hugging Face ``Trainer``.

Same data (the built-in corpus mixed with ``builtin`` gender.association data at ratio 0.5),
same tokenizer and token ids, same starting model, same batch size, learning rate, epochs, number
of optimizer steps and CPU threads, one after the other in this one process. ``--model tiny``
(a preset) trains a freshly initialised tiny model on both sides; ``--model hf:DIR --lora``
fine-tunes a pretrained model with the same LoRA adapter (the same initial weights: both sides
build it under the same seed) on both sides.

The HF ``Trainer`` runs twice on hf models:

- as a user runs it: its own random sampler, dynamic padding to the longest record of each
  batch (``DataCollatorForSeq2Seq``), its own AdamW and schedule;
- on ours's batches in ours's order, with ours's optimizer and schedule handed to it, so both do
  the same arithmetic but for its order: the per-step losses are printed side by side (their
  largest difference is what float arithmetic in another order gives).

Ours batches records of similar length and projects the output head only at positions that
carry a loss. Throughput counts real (non-padding) tokens per second of the training loop.

    .venv/bin/python benchmarks/train_throughput.py [--size 2000] [--model tiny] [--threads 1]
    .venv/bin/python benchmarks/train_throughput.py --model hf:DIR --lora --size 200 --batch-size 8 --threads 2
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the CLI sets it (see biasinherit.cli)

import argparse  # noqa: E402
import logging  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=2000, help="records in the mix")
    parser.add_argument("--model", default="tiny", help="tiny preset, or hf:DIR")
    parser.add_argument("--lora", action="store_true", help="hf: train a LoRA adapter (both sides)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads for both")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each side, in turn (the fastest counts)")
    args = parser.parse_args()

    import torch

    from biasinherit.corpora import CorpusConfig, build_corpus
    from biasinherit.generators import GenerationRequest
    from biasinherit.generators.builtin import BuiltinGenerator
    from biasinherit.mixing import mix_at_ratio
    from biasinherit.training import TrainConfig, train_model

    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(args.threads)
    original = build_corpus(CorpusConfig(size=args.size, seed=0))
    augmented = BuiltinGenerator().generate(
        original, GenerationRequest(bias_type="gender.association", n=args.size, seed=0)
    )
    mix = mix_at_ratio(original, augmented, ratio=0.5, size=args.size, seed=0)
    config = TrainConfig(model=args.model, lora=args.lora, epochs=args.epochs, batch_size=args.batch_size,
                         num_threads=args.threads, seed=0)

    # ours first (its tokenizer and sequence length are reused below: both train on the same token ids)
    ours = train_model(config, mix)
    tokenizer = ours.tokenizer
    rows = encode_rows(ours, mix)
    real_tokens = sum(len(r["input_ids"]) for r in rows) * args.epochs
    batches = ours_batches(rows, config) if config.is_hf else None

    # then the three sides in turn, --repeats times, so that load and warm-up fall on all of them;
    # each side's fastest run counts
    seconds: dict[str, list[float]] = {"ours": [], "default": [], "same": []}
    same_losses: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeats):
            if repeat:
                ours = train_model(config, mix)
            seconds["ours"].append(float(ours.metadata.train_seconds))  # type: ignore[attr-defined]
            if batches is not None:
                took, same_losses = _hf_trainer(args, config, rows, tmp, tokenizer, batches=batches)
                seconds["same"].append(took)
            seconds["default"].append(_hf_trainer(args, config, rows, tmp, tokenizer, batches=None)[0])
    name = args.model + (" + LoRA" if args.lora else "")
    ours_losses = [c["loss"] for c in ours.loss_curve]
    best = {side: min(values) for side, values in seconds.items() if values}

    def line(label: str, side: str) -> str:
        runs = ", ".join(f"{v:.1f}" for v in seconds[side])
        return f"{label:<38} {real_tokens / best[side]:8.0f} tokens/s  (fastest {best[side]:.1f}s of {runs})"

    print(f"records: {len(mix)}, real tokens per epoch: {real_tokens // args.epochs}, "
          f"batch size {args.batch_size}, epochs {args.epochs}, model {name}, threads {args.threads}, "
          f"optimizer steps {len(ours_losses)}, repeats {args.repeats}, load average {os.getloadavg()[0]:.1f}")
    print(line("ours (length-grouped)", "ours"))
    print(line("HF Trainer, its own sampler", "default"))
    print(f"ratio ours / HF Trainer: {best['default'] / best['ours']:.2f}x")
    if same_losses:
        diff = max(abs(a - b) for a, b in zip(ours_losses, same_losses, strict=True))
        print(line("HF Trainer on ours's batches", "same"))
        print(f"ratio ours / HF Trainer on ours's batches: {best['same'] / best['ours']:.2f}x")
        print(f"per-step loss, ours vs HF on the same batches: largest difference {diff:.2e} over "
              f"{len(same_losses)} steps (first {ours_losses[0]:.6f} vs {same_losses[0]:.6f}, "
              f"last {ours_losses[-1]:.6f} vs {same_losses[-1]:.6f})")


def encode_rows(trained: Any, records: Any) -> list[dict[str, list[int]]]:
    """The records as ``trained`` was trained on them: its tokenizer, framing and length."""
    from biasinherit.training.data import TextFraming, encode_example

    tokenizer = trained.tokenizer
    framing = TextFraming(tokenizer.bos_token_id, tokenizer.eos_token_id,
                          int(trained.metadata.train_config["max_length"]))
    rows = []
    for record in records:
        ids, labels, _ = encode_example(tokenizer, framing, prompt=record.prompt, response=record.response)
        rows.append({"input_ids": ids, "attention_mask": [1] * len(ids), "labels": labels})
    return rows


def ours_batches(rows: list[dict[str, list[int]]], config: Any) -> list[list[list[int]]]:
    """Our trainer's batches of ``rows``, one list per epoch, in its order."""
    from biasinherit.training.data import length_grouped_batches

    lengths = [len(r["input_ids"]) for r in rows]
    return [length_grouped_batches(lengths, config.batch_size, seed=config.seed, epoch=e)
            for e in range(config.effective_epochs())]


def _hf_trainer(args: argparse.Namespace, config: Any, rows: list[dict[str, list[int]]], tmp: str,
                tokenizer: Any, *, batches: list[list[list[int]]] | None) -> tuple[float, list[float]]:
    """Seconds of ``Trainer.train()`` and the loss of every optimizer step.

    ``batches=None``: the Trainer as a user runs it (its random sampler, its AdamW and schedule).
    With ``batches`` (ours, one list per epoch): the same batches in the same order, and ours's
    optimizer and learning-rate schedule handed to the Trainer, so the two runs do the same
    arithmetic up to its order and their per-step losses can be compared."""
    import torch
    from torch.utils.data import DataLoader
    from transformers import DataCollatorForSeq2Seq, Trainer, TrainingArguments

    from biasinherit.training.trainer import _build_hf, _deterministic

    with _deterministic(config.seed, args.threads):  # the same starting weights and adapter as ours
        if config.is_hf:
            model = _build_hf(config).model
        else:
            from biasinherit.models.tiny import build_tiny_model, tiny_preset

            model = build_tiny_model(tiny_preset(args.model), tokenizer, seed=0)
    collator = DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100)
    losses: list[float] = []
    targs = TrainingArguments(
        output_dir=tmp, per_device_train_batch_size=args.batch_size, num_train_epochs=args.epochs,
        learning_rate=config.effective_learning_rate(),
        warmup_steps=max(1, round(config.warmup_ratio * len(rows) * args.epochs / args.batch_size)),
        weight_decay=config.weight_decay, report_to=[], save_strategy="no", logging_strategy="no",
        use_cpu=True, seed=config.seed, dataloader_num_workers=0, disable_tqdm=True,
    )

    class Recording(Trainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):  # type: ignore[no-untyped-def]
            loss = super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            losses.append(float((loss[0] if return_outputs else loss).detach()))
            return loss

        def get_train_dataloader(self) -> DataLoader:  # type: ignore[override]
            if batches is None:
                return super().get_train_dataloader()
            # epoch e reads its own batches: the loader walks them all; Trainer runs one epoch of it
            return DataLoader(rows, batch_sampler=[b for epoch in batches for b in epoch], collate_fn=collator)

    optimizers: tuple[Any, Any] = (None, None)
    if batches is not None:
        targs.num_train_epochs = 1  # the loader above already holds every epoch's batches
        params = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=config.effective_learning_rate(), betas=(0.9, 0.95),
                                      weight_decay=config.weight_decay, fused=True)
        total = sum(len(epoch) for epoch in batches)
        warmup = max(1, round(config.warmup_ratio * total))
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup))))
        optimizers = (optimizer, scheduler)
    trainer = Recording(model=model, args=targs, train_dataset=rows, data_collator=collator, optimizers=optimizers)
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    trainer.train()
    return time.perf_counter() - started, losses


if __name__ == "__main__":
    main()
