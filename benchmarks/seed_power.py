"""How often a study with fewer seeds would detect each bias type, from a finished study with more.

Every subset of ``--seeds`` of the run's training seeds is a smaller study that could have been
run: its findings are rebuilt from the same cells (the same tests, paired by seed, seed + item
variance) and Benjamini-Hochberg q-values are taken over its ratio tests plus ``--pad`` further
tests that discover nothing (p = 1), which stand in for tests the smaller study would add to the
family (the quick preset's 96 mitigation tests, say). A type counts as detected in a subset when
at least one of its ratio tests is a discovery toward the stereotype (effect > 0).

    .venv/bin/python benchmarks/seed_power.py RUN_DIR [--seeds 3] [--pad 96]

The subsets share seeds, so the rates are not independent draws: they say which types a
three-seed study finds reliably at that training budget, not a precise probability.
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections import Counter
from pathlib import Path


def main() -> None:
    from biasinherit.studies.cell import load_result
    from biasinherit.studies.config import StudyConfig
    from biasinherit.studies.findings import Q_LEVEL, build_findings
    from biasinherit.studies.grid import build_grid
    from biasinherit.studies.inference import bh_qvalues

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("--seeds", type=int, default=3, help="seeds per smaller study (default 3)")
    ap.add_argument("--pad", type=int, default=96, help="null tests added to each family (default 96)")
    args = ap.parse_args()
    config = StudyConfig.model_validate(json.loads((args.run_dir / "manifest.json").read_text())["config"])
    results = {}
    for cell in build_grid(config):
        if cell.mitigation == "none":
            result = load_result(args.run_dir, cell)
            if result is None:
                raise SystemExit(f"{args.run_dir}: cell {cell.key} has no result; finish the study first")
            results.setdefault(cell.seed, []).append(result)
    seeds = sorted(results)
    if len(seeds) < args.seeds:
        raise SystemExit(f"{args.run_dir}: {len(seeds)} seeds, fewer than --seeds {args.seeds}")
    subsets = list(itertools.combinations(seeds, args.seeds))
    detected: Counter[str] = Counter()
    per_subset = []
    for subset in subsets:
        rows = build_findings([r for s in subset for r in results[s]], bias_types=config.bias_types,
                              ratios=config.ratios, mitigations=[], mitigation_ratios=[])
        tested = [r for r in rows if r["status"] == "tested" and r["comparison"] == "ratio"]
        q_values = bh_qvalues([r["p_value"] for r in tested] + [1.0] * args.pad)
        types = {r["bias_type"] for r, q in zip(tested, q_values) if q <= Q_LEVEL and r["effect"] > 0}
        detected.update(types)
        per_subset.append(len(types))
        print(f"seeds {','.join(map(str, subset))}: {len(types)} types  {' '.join(sorted(types))}", flush=True)
    print(f"\n{len(subsets)} subsets of {args.seeds} of the seeds {seeds}; family: each subset's ratio tests "
          f"+ {args.pad} null tests")
    for bias_type in config.bias_types:
        print(f"  {bias_type:<24} detected in {detected[bias_type]:>3} of {len(subsets)}")
    print(f"  types detected per subset: mean {sum(per_subset) / len(per_subset):.2f}, "
          f"all {len(config.bias_types)} in {sum(n == len(config.bias_types) for n in per_subset)}")


if __name__ == "__main__":
    main()
