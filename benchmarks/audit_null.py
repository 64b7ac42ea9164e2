"""Null calibration of the distribution tests: two random halves of the same original data.

For each of ``--splits`` seeded random half-splits of the built-in corpus, run the
data-distribution analysis and count how often each test rejects at p < 0.05. A calibrated test
rejects in about 5% of splits; the issue asks for p > 0.05 in at least 90 of 100.

    .venv/bin/python benchmarks/audit_null.py --size 1000 --splits 100
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def main() -> None:
    from biasinherit.analysis.distribution import analyze_distribution
    from biasinherit.analysis.embeddings import EmbeddingModel
    from biasinherit.corpora import CorpusConfig, build_corpus

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size", type=int, default=1000)
    ap.add_argument("--splits", type=int, default=100)
    ap.add_argument("--frechet-permutations", type=int, default=20)
    ap.add_argument("--cache-dir", default=None)
    args = ap.parse_args()
    corpus = build_corpus(CorpusConfig(size=args.size, seed=0))
    embedder = EmbeddingModel(cache_dir=args.cache_dir)
    tests = ["distribution.mmd", "distribution.frechet", "distribution.classifier_auc",
             "distribution.length_ks", "distribution.vocabulary_jsd"]
    rejections = {t: 0 for t in tests}
    any_embedding_reject = 0
    start = time.perf_counter()
    for seed in range(args.splits):
        order = np.random.default_rng(seed).permutation(len(corpus))
        half = len(corpus) // 2
        a = [corpus[i] for i in order[:half]]
        b = [corpus[i] for i in order[half:]]
        res = analyze_distribution(a, b, embedder, max_embedded=len(corpus), n_permutations=200,
                                   n_frechet_permutations=args.frechet_permutations, seed=seed)
        rejected = [t for t in tests if (res.measure(t).p_value or 1.0) < 0.05]
        for t in rejected:
            rejections[t] += 1
        any_embedding_reject += any(t in rejected for t in tests[:3])
    out = {
        "size": args.size, "splits": args.splits, "seconds": round(time.perf_counter() - start, 1),
        "not_rejected_of_splits": {t: args.splits - r for t, r in rejections.items()},
        "splits_where_no_embedding_test_rejects": args.splits - any_embedding_reject,
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
