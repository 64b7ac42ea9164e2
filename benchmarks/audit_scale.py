"""Timing of a large audit: 20,000 original + 20,000 augmented records, end to end.

Builds the built-in corpus and a builtin ``gender.association`` augmentation, writes both as
JSONL, and times ``biasinherit audit ORIGINAL AUGMENTED --out DIR`` (cold embedding cache by
default, so the timing includes embedding the subsample).

    .venv/bin/python benchmarks/audit_scale.py --size 20000
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    from biasinherit.corpora import CorpusConfig, build_corpus
    from biasinherit.generators import GenerationRequest
    from biasinherit.generators.builtin import BuiltinGenerator
    from biasinherit.records import write_jsonl

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size", type=int, default=20000)
    ap.add_argument("--bias-type", default="gender.association")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        corpus = build_corpus(CorpusConfig(size=args.size, seed=0))
        aug = BuiltinGenerator().generate(corpus, GenerationRequest(bias_type=args.bias_type, n=args.size, seed=0))
        write_jsonl(corpus, d / "corpus.jsonl")
        write_jsonl(aug, d / "aug.jsonl")
        cmd = [sys.executable, "-m", "biasinherit", "audit", str(d / "corpus.jsonl"), str(d / "aug.jsonl"),
               "--out", str(d / "out"), "--cache-dir", str(d / "cache")]
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        print(proc.stdout[-3000:])
        if proc.returncode != 0:
            print(proc.stderr[-3000:])
        print(f"audit of {args.size} + {args.size} records: {seconds:.1f} s (exit {proc.returncode})")


if __name__ == "__main__":
    main()
