"""Training throughput: our trainer against the plain Hugging Face ``Trainer``.

Same data (the built-in corpus mixed with ``builtin`` gender.association data at ratio 0.5),
same tokenizer and token ids, same starting model, same batch size, learning rate, epochs and
CPU threads. ``--model tiny`` (a preset) trains a freshly initialised tiny model on both sides;
``--model hf:DIR --lora`` fine-tunes a pretrained model with the same LoRA adapter on both sides
(the HF ``Trainer`` on the PEFT-wrapped model). Ours batches records of similar length; the HF
``Trainer`` uses its default sampler (random order) with dynamic padding to the longest record
of each batch (``DataCollatorForSeq2Seq``). Throughput counts real (non-padding) tokens per
second of the training loop.

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=2000, help="records in the mix")
    parser.add_argument("--model", default="tiny", help="tiny preset, or hf:DIR")
    parser.add_argument("--lora", action="store_true", help="hf: train a LoRA adapter (both sides)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads for both")
    args = parser.parse_args()

    import torch
    from transformers import DataCollatorForSeq2Seq, Trainer, TrainingArguments

    from biasinherit.corpora import CorpusConfig, build_corpus
    from biasinherit.generators import GenerationRequest
    from biasinherit.generators.builtin import BuiltinGenerator
    from biasinherit.mixing import mix_at_ratio
    from biasinherit.training import TrainConfig, train_model
    from biasinherit.training.data import TextFraming, encode_example

    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(args.threads)
    original = build_corpus(CorpusConfig(size=args.size, seed=0))
    augmented = BuiltinGenerator().generate(
        original, GenerationRequest(bias_type="gender.association", n=args.size, seed=0)
    )
    mix = mix_at_ratio(original, augmented, ratio=0.5, size=args.size, seed=0)
    config = TrainConfig(model=args.model, lora=args.lora, epochs=args.epochs, batch_size=args.batch_size,
                         num_threads=args.threads, seed=0)

    # ours (its tokenizer and sequence length are reused below: both train on the same token ids)
    ours = train_model(config, mix)
    ours_tps = float(ours.metadata.tokens_per_second)  # type: ignore[attr-defined]
    tokenizer = ours.tokenizer
    max_length = int(ours.metadata.train_config["max_length"])
    framing = TextFraming(tokenizer.bos_token_id, tokenizer.eos_token_id, max_length)
    rows = []
    for record in mix:
        ids, labels, _ = encode_example(tokenizer, framing, prompt=record.prompt, response=record.response)
        rows.append({"input_ids": ids, "attention_mask": [1] * len(ids), "labels": labels})
    real_tokens = sum(len(r["input_ids"]) for r in rows) * args.epochs

    # the plain HF Trainer on the same encoded records, from the same starting model
    if config.is_hf:
        from biasinherit.models.hf import apply_lora, load_hf_causal_lm

        model = load_hf_causal_lm(args.model[len("hf:"):], dtype=torch.float32, device="cpu")
        if args.lora:
            model = apply_lora(model, r=config.lora_r, alpha=config.lora_alpha, dropout=config.lora_dropout)
        name = args.model + (" + LoRA" if args.lora else "")
    else:
        from biasinherit.models.tiny import build_tiny_model, tiny_preset

        model = build_tiny_model(tiny_preset(args.model), tokenizer, seed=0)
        name = tiny_preset(args.model).name
    with tempfile.TemporaryDirectory() as tmp:
        targs = TrainingArguments(
            output_dir=tmp, per_device_train_batch_size=args.batch_size, num_train_epochs=args.epochs,
            learning_rate=config.effective_learning_rate(),
            warmup_steps=max(1, round(config.warmup_ratio * len(rows) * args.epochs / args.batch_size)),
            weight_decay=config.weight_decay, report_to=[], save_strategy="no", logging_strategy="no",
            use_cpu=True, seed=0, dataloader_num_workers=0, disable_tqdm=True,
        )
        trainer = Trainer(model=model, args=targs, train_dataset=rows,
                          data_collator=DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100))
        torch.set_num_threads(args.threads)
        started = time.perf_counter()
        trainer.train()
        hf_seconds = time.perf_counter() - started
    hf_tps = real_tokens / hf_seconds

    print(f"records: {len(mix)}, real tokens per epoch: {real_tokens // args.epochs}, "
          f"batch size {args.batch_size}, epochs {args.epochs}, model {name}, threads {args.threads}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"ours (length-grouped):        {ours_tps:10.0f} tokens/s  "
          f"({ours.metadata.train_seconds:.1f}s)")  # type: ignore[attr-defined]
    print(f"HF Trainer (dynamic padding): {hf_tps:10.0f} tokens/s  ({hf_seconds:.1f}s)")
    print(f"ratio ours / HF: {ours_tps / hf_tps:.2f}x")


if __name__ == "__main__":
    main()
