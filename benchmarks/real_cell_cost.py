"""One real-model study cell's evaluation, before and after merging the LoRA adapter (or another change).

Fine-tunes a pretrained ``hf:`` model with LoRA on one cell's mix (the built-in corpus and
``builtin`` data of one bias type at ratio 1), then scores it as a study cell does
(``evaluate_trained``: the configured scoring tasks, and the benchmarks when given), first
through the unmerged adapter ("before"), then with the adapter merged into the weights
(``merge_for_scoring``, the merge counted in "after"). Both run in this process, one after the
other on the same trained model (``--repeats``: alternating rounds, medians), so machine load
affects both alike. Prints the two times, the
largest absolute difference of every metric value (and interval bound) and of every
log-likelihood the tasks asked for (sums and per-token values), and the one that moved most;
``--profile FILE`` writes a cProfile of the first unmerged run. Study cells score unmerged (the
merge moves log-likelihoods by more than 1e-5; see ``merge_for_scoring``).

``--after batch64`` scores the unmerged adapter again, with 64 rows a forward pass instead of
32 (the same arithmetic in other batch shapes: what a larger batch would win, and whether greedy
generations survive the different rounding). ``--after bf16`` casts the merged model to bfloat16
before scoring (on a CPU with AMX its matrix multiplies are several times float32's); ``--config FILE`` takes the cell from a study config
(its model, schedule, data sizes, tasks, per-task limits and benchmarks; ``--bias-type`` picks the
type), e.g. ``--config examples/real_six_types.toml --bias-type gender.stereotype``.

    .venv/bin/python benchmarks/real_cell_cost.py --model ~/.cache/biasinherit/models/smollm2-135m-instruct \\
        --size 60 --threads 2 --repeats 2 --benchmark-limit 150 \\
        --benchmarks crows_pairs=../shared/data/crows_pairs/crows_pairs_anonymized.csv,bbq=../shared/data/bbq/Age.jsonl
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the CLI sets it (see biasinherit.cli)

import argparse  # noqa: E402
import logging  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

TASKS = ["stereo_pairs", "coref", "toxicity_detection", "sentiment_cf", "bias_qa"]


def _recording(calls: list[float], labels: list[str], texts: list[str]) -> Any:
    """Wrap ``HFBackend``'s scoring methods so that every log-likelihood they return is kept
    (``labels``: for each, what it is: a sum or a token's, and the scored text), and every text
    it generates (``texts``)."""
    from biasinherit.models.backend import HFBackend

    plain, per_token, generate = HFBackend.loglikelihood, HFBackend.token_loglikelihoods, HFBackend.generate

    def generated(self: Any, prompts: Any, **kwargs: Any) -> list[str]:
        out = generate(self, prompts, **kwargs)
        texts.extend(out)
        return out

    def loglikelihood(self: Any, pairs: Any, **kwargs: Any) -> list[float]:
        out = plain(self, pairs, **kwargs)
        calls.extend(out)
        labels.extend(f"sum over {c + x!r}" for c, x in pairs)
        return out

    def token_loglikelihoods(self: Any, pairs: Any, **kwargs: Any) -> Any:
        out = per_token(self, pairs, **kwargs)
        for (c, x), r in zip(pairs, out, strict=True):
            calls.append(r.logprob)
            labels.append(f"sum over {c + x!r}")
            calls.extend(r.token_logprobs)
            labels.extend(f"token {i} of {x!r}" for i in range(len(r.token_logprobs)))
        return out

    HFBackend.loglikelihood = loglikelihood  # type: ignore[method-assign]
    HFBackend.token_loglikelihoods = token_loglikelihoods  # type: ignore[method-assign]
    HFBackend.generate = generated  # type: ignore[method-assign]


def _max_diff(a: list[float | None], b: list[float | None]) -> float:
    if len(a) != len(b):
        return math.inf
    worst = 0.0
    for x, y in zip(a, b, strict=True):
        if x is None or y is None or math.isnan(x) or math.isnan(y):
            if not ((x is None or math.isnan(x)) and (y is None or math.isnan(y))):
                return math.inf
            continue
        worst = max(worst, abs(x - y))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(Path.home() / ".cache/biasinherit/models/smollm2-135m-instruct"),
                        help="a pretrained model folder (hf)")
    parser.add_argument("--size", type=int, default=60, help="records in the cell's mix")
    parser.add_argument("--bias-type", default="gender.association")
    parser.add_argument("--mitigation", default="none", help="none, token, mask or loss")
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--limit", type=int, default=None, help="items per task (default: each task's small size)")
    parser.add_argument("--benchmarks", default=None,
                        help="NAME=PATH,... (e.g. crows_pairs=../shared/data/crows_pairs/crows_pairs_anonymized.csv)")
    parser.add_argument("--benchmark-limit", type=int, default=150)
    parser.add_argument("--threads", type=int, default=2, help="the executor's threads per cell")
    parser.add_argument("--repeats", type=int, default=1, help="rounds of (unmerged, merged), alternating")
    parser.add_argument("--profile", default=None, help="write a cProfile of the unmerged evaluation here")
    parser.add_argument("--after", choices=["merged", "bf16", "batch64"], default="merged",
                        help="what is scored after: the merged adapter, the merged model in bfloat16, or the "
                             "unmerged adapter at 64 rows a batch")
    parser.add_argument("--config", default=None, help="a study config whose cell to take (see above)")
    args = parser.parse_args()

    from copy import deepcopy as copy_module

    import torch

    from biasinherit.corpora import CorpusConfig, build_corpus
    from biasinherit.generators import GenerationRequest
    from biasinherit.generators.builtin import BuiltinGenerator
    from biasinherit.mixing import mix_at_ratio
    from biasinherit.studies.config import StudyConfig
    from biasinherit.studies.evaluation import evaluate_trained, merge_for_scoring
    from biasinherit.training.trainer import train_model

    logging.basicConfig(level=logging.WARNING)
    benchmarks = dict(item.split("=", 1) for item in args.benchmarks.split(",")) if args.benchmarks else {}
    if args.config:
        from biasinherit.studies.config import load_study_config

        config = load_study_config(args.config)
        args.model = config.model["model"]
        args.tasks, args.limit, args.size = ",".join(config.tasks.names), config.tasks.limit, config.mix.size
        benchmarks = config.tasks.benchmarks
    else:
        config = StudyConfig.model_validate({
            "name": "real-cell-cost", "bias_types": [args.bias_type], "ratios": [1.0], "seeds": [0],
            "pretrain": {"enabled": False},
            "model": {"model": f"hf:{args.model}", "lora": True, "epochs": 1, "batch_size": 8},
            "tasks": {"names": args.tasks.split(","), "limit": args.limit, "benchmarks": benchmarks,
                      "benchmark_limit": args.benchmark_limit},
            "executor": {"workers": 1, "threads": args.threads},
        })
    torch.set_num_threads(args.threads)  # as compute_cell does
    if args.config:  # the study's own original and augmented records and its first seed's mix
        import tempfile

        from biasinherit.studies.shared import prepare_augmented, prepare_original

        with tempfile.TemporaryDirectory() as run_dir:
            original = prepare_original(config, Path(run_dir))
            augmented = prepare_augmented(config, Path(run_dir), args.bias_type, original)
        mix = mix_at_ratio(original, augmented, ratio=1.0, size=config.mix.size, mode=config.mix.mode,
                           seed=config.seeds[0], draw_seed=config.mix.draw_seed)
    else:
        original = build_corpus(CorpusConfig(size=args.size, seed=0))
        augmented = BuiltinGenerator().generate(original, GenerationRequest(bias_type=args.bias_type, n=args.size,
                                                                            seed=0))
        mix = mix_at_ratio(original, augmented, ratio=1.0, size=args.size, seed=0)
    train_config = config.train_config(seed=config.seeds[0], mitigation=args.mitigation, bias_type=args.bias_type)
    t0 = time.perf_counter()
    trained = train_model(train_config, mix)
    train_s = time.perf_counter() - t0

    calls: list[float] = []
    labels: list[str] = []
    texts: list[str] = []
    _recording(calls, labels, texts)

    def evaluate(model: Any, profile: str | None = None) -> tuple[float, Any, Any, list[float], list[str]]:
        """(seconds, rows, replicates, log-likelihoods, generated texts) of one evaluation; a PEFT
        model is merged (a copy of it, so the next round can score the unmerged one again), unless
        ``--after batch64``."""
        calls.clear()
        labels.clear()
        texts.clear()
        t0 = time.perf_counter()
        after = model is not trained
        rows_a_pass = {"batch_size": 64} if after and args.after == "batch64" else {}  # else the study's
        scored = merge_for_scoring(model) if after and args.after != "batch64" else model
        if after and args.after == "bf16":
            scored.model.to(torch.bfloat16)
        if profile:
            import cProfile

            profiler = cProfile.Profile()
            rows, reps = profiler.runcall(evaluate_trained, scored, config, seed=0, **rows_a_pass)
            profiler.dump_stats(profile)
        else:
            rows, reps = evaluate_trained(scored, config, seed=0, **rows_a_pass)
        return time.perf_counter() - t0, rows, reps, list(calls), list(texts)

    before_times, after_times = [], []
    for round_ in range(args.repeats):  # alternating, so a change of load hits both
        copy = type(trained)(copy_module(trained.model), trained.tokenizer, trained.metadata, trained.loss_curve)
        seconds, before_rows, before_reps, before_ll, before_texts = evaluate(trained, args.profile if round_ == 0 else None)
        before_times.append(seconds)
        seconds, after_rows, after_reps, after_ll, after_texts = evaluate(copy)
        after_times.append(seconds)
        del copy

    diffs = {key: _max_diff([r[key] for r in before_rows], [r[key] for r in after_rows])
             for key in ("value", "ci_low", "ci_high")}
    reps = max((_max_diff(before_reps[k], after_reps.get(k, [])) for k in before_reps), default=0.0)
    before_s, after_s = statistics.median(before_times), statistics.median(after_times)
    print(f"model {args.model}, mix {args.size}, tasks {args.tasks}, limit {args.limit}, "
          f"benchmarks {sorted(benchmarks) or 'none'}, threads {args.threads}, train {train_s:.1f}s")
    print(f"evaluation before (unmerged adapter): median {before_s:.2f}s of {[round(t, 2) for t in before_times]}")
    merge_note = "" if args.after == "batch64" else ", the merge included"
    print(f"evaluation after ({args.after}{merge_note}): median {after_s:.2f}s of {[round(t, 2) for t in after_times]}"
          f"  speedup {before_s / after_s:.2f}x")
    print(f"metric rows: {len(before_rows)}; max |diff| value {diffs['value']:.3g}, ci_low {diffs['ci_low']:.3g}, "
          f"ci_high {diffs['ci_high']:.3g}, bootstrap replicates {reps:.3g}")
    moved = [(abs(a["value"] - b["value"]), f"{a['task']}/{a['metric']}") for a, b in zip(before_rows, after_rows)
             if a["value"] is not None and b["value"] is not None and not (math.isnan(a["value"]) or math.isnan(b["value"]))]
    if moved:
        print("metrics that moved most: " + ", ".join(f"{name} {d:.3g}" for d, name in sorted(moved, reverse=True)[:3]))
    same = sum(a == b for a, b in zip(before_texts, after_texts, strict=False))
    print(f"generated texts: {same} of {len(before_texts)} the same after ({len(after_texts)} generated)")
    rel = max((abs(a - b) / max(abs(a), 1e-12) for a, b in zip(before_ll, after_ll, strict=False)), default=0.0)
    print(f"log-likelihoods (sums and per-token): {len(before_ll)} before, {len(after_ll)} after; "
          f"max |diff| {_max_diff(before_ll, after_ll):.3g}, max relative diff {rel:.3g}, "
          f"largest |log-likelihood| {max(map(abs, before_ll), default=0.0):.3g}")
    if before_ll and len(before_ll) == len(after_ll):
        worst = max(range(len(before_ll)), key=lambda i: abs(before_ll[i] - after_ll[i]))
        print(f"largest difference: {before_ll[worst]:.6g} vs {after_ll[worst]:.6g}, {labels[worst][:160]}")

if __name__ == "__main__":
    main()
