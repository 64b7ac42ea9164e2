"""The ``--dry-run`` estimate beside a measured study: runs ``biasinherit study`` on a config,
times it, and prints both (the issue's target: within 30%).

    .venv/bin/python benchmarks/study_estimate.py [--config examples/null_plain.toml] [--keep DIR]

Run it on a quiet machine; the cached pretrained base and embeddings are used when present (say
so beside a figure: an empty cache adds the base's pretraining and the audit embeddings).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    from biasinherit.studies.config import load_study_config
    from biasinherit.studies.estimate import estimate_seconds
    from biasinherit.studies.grid import build_grid

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=None, help="study config (default: the quick preset)")
    ap.add_argument("--keep", default=None, help="run folder to keep (default: a temporary one)")
    args = ap.parse_args()
    config = load_study_config(args.config)
    estimate = estimate_seconds(config, build_grid(config))
    if estimate is None:
        sys.exit("no estimate for hf models")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.keep) if args.keep else Path(tmp) / "run"
        cmd = [sys.executable, "-m", "biasinherit", "study", "--out", str(out)]
        if args.config:
            cmd += ["--config", args.config]
        load = os.getloadavg()[0]
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        measured = time.perf_counter() - start
    print(f"config: {args.config or 'preset quick'}; load average before: {load:.2f}")
    print(f"estimate {estimate['seconds']:.0f} s (machine slowness {estimate['slowness']:.2f}), measured {measured:.0f} s "
          f"({(estimate['seconds'] - measured) / measured:+.0%})")


if __name__ == "__main__":
    main()
