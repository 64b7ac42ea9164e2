"""Wall time of ``biasinherit evaluate`` and of ``lm_eval`` on the exported tasks, same model and items.

    .venv/bin/python benchmarks/lm_eval_tasks_speed.py [--model DIR] [--tasks all] [--limit 10]
        [--batch-size 8] [--threads 2]

Exports the tasks (``biasinherit lm-eval-tasks``), then runs each side as a user would, one
after the other, as a subprocess timed from start to exit (model loading and the harness's task
indexing included): ``biasinherit evaluate --model DIR --limit N --n-boot 0`` and ``lm_eval
--model hf --model_args pretrained=DIR,dtype=float32 --include_path EXPORT --tasks ... --limit
N``. Both get the same torch thread count (``--threads``, through ``OMP_NUM_THREADS`` for the
harness) and ``OMP_WAIT_POLICY=PASSIVE`` (the biasinherit CLI's own default). Prints both times, each side's own per-stage time where it reports one, and the
largest metric difference between the two (NaN where both have no data counts as equal).

``--model`` defaults to SmolLM2-135M-Instruct from the models cache (fetched on first use).
Not a test: lm-eval is the ``bench`` extra.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{proc.stderr[-4000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="model folder (default: SmolLM2-135M-Instruct, fetched into the cache)")
    parser.add_argument("--tasks", default="all", help="'all' (every exportable task) or NAME,NAME")
    parser.add_argument("--limit", type=int, default=10, help="items per task (both sides)")
    parser.add_argument("--batch-size", type=int, default=8, help="lm_eval --batch_size (evaluate keeps its own)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads, both sides")
    parser.add_argument("--keep", action="store_true", help="keep the export and both sides' outputs")
    args = parser.parse_args()

    from biasinherit.integrations.lm_eval_tasks import MANIFEST, write_lm_eval_tasks

    if args.model is None:
        from biasinherit.models.fetch import fetch_model

        args.model = str(fetch_model("smollm2-135m-instruct").path)
    root = Path(tempfile.mkdtemp(prefix="lm-eval-speed-"))
    export = write_lm_eval_tasks(root / "tasks", tasks=None if args.tasks == "all" else args.tasks.split(","))
    tasks = json.loads((export / MANIFEST).read_text())["tasks"]
    # the same OpenMP settings on both sides: the thread count, and idle threads that sleep (the
    # biasinherit CLI's default; spinning threads made the harness several times slower on a
    # machine whose cores other processes share)
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "OMP_WAIT_POLICY": "PASSIVE",
           "TOKENIZERS_PARALLELISM": "false"}
    bin_dir = Path(sys.executable).parent
    ours_cmd = [sys.executable, "-m", "biasinherit", "evaluate", "--model", args.model, "--tasks", ",".join(tasks),
                "--limit", str(args.limit), "--n-boot", "0", "--threads", str(args.threads), "--out", str(root / "ours")]
    theirs_cmd = [str(bin_dir / "lm_eval"), "--model", "hf", "--model_args", f"pretrained={args.model},dtype=float32",
                  "--include_path", str(export), "--tasks", ",".join(f"biasinherit_{t}" for t in tasks),
                  "--limit", str(args.limit), "--batch_size", str(args.batch_size), "--output_path", str(root / "lm")]
    ours_s = _timed(ours_cmd, env)
    theirs_s = _timed(theirs_cmd, env)

    ours = json.loads((root / "ours" / "results.json").read_text())
    (run,) = [p for p in (root / "lm").iterdir() if p.is_dir()]
    theirs = json.loads(next(run.glob("results_*.json")).read_text())["results"]
    worst, compared = 0.0, 0
    for row in ours["results"]:
        a = float("nan") if row["value"] is None else float(row["value"])
        b = float(theirs[f"biasinherit_{row['task']}"][f"{row['metric']},none"])
        if not (math.isnan(a) and math.isnan(b)):
            worst = max(worst, abs(a - b)) if not (math.isnan(a) or math.isnan(b)) else math.inf
        compared += 1
    print(f"model: {args.model}")
    print(f"tasks: {', '.join(tasks)}; {args.limit} items each; {args.threads} torch threads")
    print(f"biasinherit evaluate: {ours_s:7.1f} s wall  (tasks alone: {ours['provenance'].get('total_seconds')} s; "
          f"per task: {ours['provenance'].get('seconds')})")
    print(f"lm_eval (batch {args.batch_size}):   {theirs_s:7.1f} s wall")
    print(f"metrics compared: {compared}; largest difference: {worst:.2e}")
    print(f"commands:\n  {' '.join(ours_cmd)}\n  {' '.join(theirs_cmd)}")
    if args.keep:
        print(f"kept: {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
