"""The GPU check: the GPU path, run on a machine with an NVIDIA GPU in a few minutes.

    benchmarks/gpu_check.sh                      # from the repository root

1. LoRA in bf16 on cuda: four steps on a tiny Llama built here (and on SmolLM2 when
   models/smollm2 holds it), each against the same steps in float32 on the CPU (every step's loss
   within 5%); full fine-tuning of the tiny Llama (float32 weights, forward autocast to bf16)
   against the CPU the same way.
2. Evaluation on cuda: the trained adapter reloaded on cuda (bf16) and on the CPU (float32)
   scores the same requests alike (median within 2%, correlation at least 0.99); three tasks (two
   log-likelihood, one generation) on cuda.
3. A two-cell study with the Ray executor (``biasinherit study``, a local Ray): an hf: model, so
   each cell asks Ray for a GPU by default; each cell's result must record the GPU Ray gave it,
   the CUDA_VISIBLE_DEVICES it saw and a cuda device for its model.

Every part runs even when an earlier one failed; the script prints what it measured and exits 1
if any part failed. Without a CUDA device it stops at once, with exit status 1 (it is a GPU check).
``--rehearse-on-cpu`` runs the same steps on the CPU in bf16, with Ray told that the machine has
one GPU (the cells then report that torch sees no CUDA and run on the CPU): a check of this
script on a machine without a GPU, not of a GPU.
"""

from __future__ import annotations

import os

os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS, without warnings
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

# bf16 keeps 8 significant bits; through SmolLM2's 30 layers that is up to about 2% of a loss and,
# per request, a median 0.7% (up to 0.2 nats a token) of a log-likelihood (measured in bf16 on the CPU)
TRAIN_TOLERANCE = 0.05  # relative, every step's loss (a few steps compound the differences)
SCORE_TOLERANCE = 0.02  # relative, the median request's log-likelihood
SCORE_CORRELATION = 0.99  # across requests, bf16 against float32
SMOLLM2 = Path("models/smollm2")
STEPS_OPTIONS = {"epochs": 1, "batch_size": 8, "seed": 0}  # 32 records: four steps


class Check:
    """Runs the parts, keeps what each measured, and says at the end whether all passed."""

    def __init__(self) -> None:
        self.failed: list[str] = []
        self.lines: list[str] = []

    def part(self, name: str, body: Callable[[], None]) -> None:
        print(f"\n== {name}", flush=True)
        started = time.perf_counter()
        try:
            body()
        except Exception:  # every part runs; the failure is reported and counted
            traceback.print_exc()
            self.failed.append(name)
            print(f"FAIL {name} ({time.perf_counter() - started:.1f}s)", flush=True)
            return
        print(f"ok   {name} ({time.perf_counter() - started:.1f}s)", flush=True)

    def measured(self, line: str) -> None:
        print(f"     {line}", flush=True)
        self.lines.append(line)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def _relative(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-12)


def _tiny_llama(records: list[Any], out: Path) -> Path:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from biasinherit.models.tiny import train_tiny_tokenizer

    tok = train_tiny_tokenizer([t for r in records for t in (r.prompt or "", r.response)], vocab_size=512)
    config = LlamaConfig(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                         bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                         pad_token_id=tok.pad_token_id)
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(out)
    tok.save_pretrained(out)
    return out


def _train_against_cpu(check: Check, label: str, model_dir: Path, records: list[Any], *, device: str,
                       dtype: str, expected: Any, lora: bool) -> Any:
    """The steps on ``device`` and in float32 on the CPU; every step's loss within TRAIN_TOLERANCE."""
    import torch

    from biasinherit.training import TrainConfig, train_model

    options = {**STEPS_OPTIONS, "lora": lora, "learning_rate": 1e-3 if lora else 1e-4}
    result = train_model(TrainConfig(model=f"hf:{model_dir}", device=device, dtype=dtype, **options), records)
    reference = train_model(TrainConfig(model=f"hf:{model_dir}", device="cpu", dtype="float32", **options), records)
    weights = {p.dtype for p in result.model.parameters() if not p.requires_grad} if lora else \
        {p.dtype for p in result.model.parameters()}
    trainable = {p.dtype for p in result.model.parameters() if p.requires_grad}
    where = {str(p.device) for p in result.model.parameters()}
    losses = [(a["loss"], b["loss"]) for a, b in zip(result.loss_curve, reference.loss_curve)]
    worst = max(_relative(a, b) for a, b in losses)
    meta = result.metadata
    check.measured(f"{label}: {len(losses)} steps on {sorted(where)} in {meta.train_seconds:.2f}s "  # type: ignore[attr-defined]
                   f"({meta.tokens_per_second:,.0f} tokens/s); weights {sorted(map(str, weights))}, "  # type: ignore[attr-defined]
                   f"trained {sorted(map(str, trainable))}; loss {losses[-1][0]:.4f} vs cpu float32 "
                   f"{losses[-1][1]:.4f}, worst step {worst:.2%} apart")
    _require(all(math.isfinite(a) for a, _ in losses), f"{label}: a loss is not finite: {losses}")
    _require(where == ({"cpu"} if device == "cpu" else {"cuda:0"}), f"{label}: ran on {where}")
    _require(weights == {expected}, f"{label}: weights in {weights}, expected {expected}")
    if lora:
        _require(trainable == {torch.float32}, f"{label}: the LoRA adapter is in {trainable}, expected float32")
    _require(worst <= TRAIN_TOLERANCE, f"{label}: a step's loss is {worst:.2%} from float32 on the CPU: {losses}")
    return result


def _evaluate(check: Check, adapter: Path, records: list[Any], *, device: str, dtype: str) -> None:
    from biasinherit.models import load_model
    from biasinherit.models.backend import HFBackend
    from biasinherit.tasks import resolve_tasks
    from biasinherit.tasks.base import EvalSettings
    from biasinherit.tasks.runner import run_tasks

    def backend(dev: str, dt: str) -> HFBackend:
        loaded = load_model(adapter, device=dev, dtype=dt)
        return HFBackend(loaded.model, loaded.tokenizer, eval_prefix=loaded.eval_prefix,
                         add_bos=bool(loaded.metadata.add_bos), metadata=loaded.metadata.model_dump())

    pairs = [(r.prompt or "", " " + r.response) for r in records[:64]]
    on_device, on_cpu = backend(device, dtype), backend("cpu", "float32")
    started = time.perf_counter()
    scores = on_device.loglikelihood(pairs)
    seconds = time.perf_counter() - started
    reference = on_cpu.loglikelihood(pairs)
    _require(all(math.isfinite(s) for s in scores), "a log-likelihood is not finite")
    relative = sorted(_relative(a, b) for a, b in zip(scores, reference))
    median, correlation = relative[len(relative) // 2], statistics.correlation(scores, reference)
    weights = next(on_device.scorer.model.parameters()).dtype
    check.measured(f"log-likelihood of {len(pairs)} requests on {device} ({weights}) in {seconds:.2f}s; against "
                   f"float32 on the CPU: median {median:.2%} apart (worst {relative[-1]:.2%}), correlation "
                   f"{correlation:.4f}; prefix-shared rows: {on_device.scorer.share}")
    _require(median <= SCORE_TOLERANCE and correlation >= SCORE_CORRELATION,
             f"log-likelihoods unlike float32's: median {median:.2%} apart, correlation {correlation:.4f}")
    results, seconds_by_task = run_tasks(on_device, resolve_tasks("stereo_pairs,coref,salary"),
                                         EvalSettings(limit=16, n_boot=50))
    for task, secs in seconds_by_task.items():
        # a metric may be NaN on 16 items (a pay gap needs parsed answers for both groups)
        shown = [f"{r.metric}={r.value:.3f} (n={r.n})" for r in results
                 if r.task == task and r.n > 0 and math.isfinite(r.value)]
        check.measured(f"{task} on {device} in {secs:.2f}s: {', '.join(shown[:4])}")
        _require(bool(shown), f"{task}: no metric has a value")


STUDY = """
name = "gpu-check"
bias_types = ["gender.association"]
ratios = [0.0, 1.0]
seeds = [0]
[data]
corpus_size = 120
[mix]
size = 64
[pretrain]
enabled = false
[model]
model = "hf:{model}"
lora = true
epochs = 1
batch_size = 8
[mitigation]
names = []
[tasks]
names = ["coref", "stereo_pairs"]
limit = 16
[audit]
enabled = false
[executor]
name = "ray"
"""


def _study(check: Check, model_dir: Path, tmp: Path, *, rehearse: bool, expected_dtype: str) -> None:
    config = tmp / "study.toml"
    config.write_text(STUDY.format(model=model_dir.resolve()))
    out = tmp / "study"
    env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}
    if rehearse:  # Ray's own override of what a node has (its autoscaler's): one GPU that is not there
        env["RAY_OVERRIDE_RESOURCES"] = json.dumps({"GPU": 1})
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "biasinherit", "study", "--config", str(config), "--out", str(out)],
                          env=env, capture_output=True, text=True, timeout=240)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-5000:], sep="\n")
    _require(proc.returncode == 0, f"biasinherit study exited {proc.returncode}")
    placements = [json.loads(p.read_text())["placement"] for p in sorted(out.glob("cells/*/result.json"))]
    check.measured(f"two-cell study with the Ray executor in {seconds:.1f}s")
    for p in placements:
        check.measured(f"cell: device {p['device']} ({p['dtype']}), Ray GPU {p['gpus']}, "
                       f"CUDA_VISIBLE_DEVICES={p['cuda_visible_devices']}, {p['finished'] - p['started']:.1f}s")
    _require(len(placements) == 2, f"{len(placements)} cell results, expected 2")
    for p in placements:
        _require(len(p["gpus"] or []) == 1, f"a cell was given GPUs {p['gpus']}, expected one")
        _require(p["cuda_visible_devices"] == ",".join(p["gpus"]), f"CUDA_VISIBLE_DEVICES does not name the GPU: {p}")
        if rehearse:
            _require(p["device"] == "cpu" and not p["cuda_available"], f"rehearsal: {p}")
        else:
            _require(p["device"].startswith("cuda") and p["dtype"] == expected_dtype, f"a cell did not use its GPU: {p}")
    _require((out / "results.csv").stat().st_size > 0, "no results table")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rehearse-on-cpu", action="store_true",
                        help="run the steps on the CPU in bf16 (checks the script, not a GPU)")
    parser.add_argument("--smollm2", type=Path, default=SMOLLM2, help="SmolLM2's model folder, if there is one")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    import torch

    rehearse = args.rehearse_on_cpu
    if rehearse:
        device, dtype, expected = "cpu", "bfloat16", torch.bfloat16
        print("gpu_check: REHEARSAL on the CPU (bf16; Ray is told of one GPU that is not there)")
    else:
        if not torch.cuda.is_available():
            build = f"a CUDA {torch.version.cuda} build" if torch.version.cuda else "a CPU-only build"
            print(f"gpu_check: no CUDA device: torch {torch.__version__} ({build}) sees no GPU "
                  f"(CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES')!r}); this check needs one",
                  file=sys.stderr)
            return 1
        device, dtype = "cuda", "auto"
        expected = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float32
        props = torch.cuda.get_device_properties(0)
        print(f"gpu_check: {torch.cuda.device_count()} GPU(s), cuda:0 {props.name} "
              f"({props.total_memory / 2**30:.0f} GiB, compute {props.major}.{props.minor}); torch "
              f"{torch.__version__}, CUDA {torch.version.cuda}; dtype auto picks {expected}")
    from biasinherit.corpora import CorpusConfig, build_corpus
    from biasinherit.training import save_trained

    started = time.perf_counter()
    check = Check()
    records = build_corpus(CorpusConfig(size=120, seed=0))
    tmp = Path(tempfile.mkdtemp(prefix="gpu-check-"))
    tiny = _tiny_llama(records, tmp / "tiny-llama")
    smollm2 = args.smollm2.resolve()
    models = [("tiny Llama", tiny)] + ([("SmolLM2", smollm2)] if (smollm2 / "config.json").is_file() else [])
    if len(models) == 1:
        print(f"gpu_check: no {args.smollm2}/config.json: SmolLM2 is skipped "
              "(biasinherit models fetch smollm2-135m-instruct --out models/smollm2)")
    adapters: dict[str, Path] = {}

    def lora_steps(label: str, path: Path) -> Callable[[], None]:
        def body() -> None:
            result = _train_against_cpu(check, f"{label} LoRA", path, records[:32], device=device, dtype=dtype,
                                        expected=expected, lora=True)
            adapters[label] = save_trained(result, tmp / f"adapter-{len(adapters)}")
        return body

    for label, path in models:
        check.part(f"LoRA steps in {expected} on {device}: {label}", lora_steps(label, path))
    check.part(f"full fine-tuning steps (float32 weights, {expected} forward) on {device}: tiny Llama",
               lambda: _train_against_cpu(check, "tiny Llama full", tiny, records[:32], device=device, dtype=dtype,
                                          expected=expected, lora=False))
    label = models[-1][0]
    check.part(f"evaluation on {device}: {label} adapter",
               lambda: _evaluate(check, adapters[label], records[64:], device=device, dtype=dtype))
    check.part("a two-cell study with the Ray executor asking for GPUs",
               lambda: _study(check, tiny, tmp, rehearse=rehearse, expected_dtype=str(expected).removeprefix("torch.")))

    total = time.perf_counter() - started
    print(f"\ngpu_check: {total:.0f}s in all" + (" (over the 5 minutes it should take)" if total > 300 else ""))
    if check.failed:
        print(f"gpu_check: FAILED: {'; '.join(check.failed)}", file=sys.stderr)
        return 1
    print("gpu_check: all parts passed" + (" (a rehearsal on the CPU: no GPU was checked)" if rehearse else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
