"""The offline data path end to end: corpus -> six bias types -> mixes -> a summary table.

    python examples/foundation_demo.py --out runs/foundation

Writes the corpus, one augmented file per bias type and mixes at a few ratios, then prints, for
each bias type, the statistic that type controls, measured from the text of each file.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from biasinherit.corpora import CorpusConfig, build_corpus
from biasinherit.generators import GenerationRequest, get_generator
from biasinherit.generators.stats import association_rate, group_shares, stereotype_claim_rate
from biasinherit.mixing import mix_at_ratio
from biasinherit.records import write_jsonl

STATISTIC = {
    "association": ("association rate", lambda rs, a: association_rate(rs, a).value),
    "representation": ("share of default group",
                       lambda rs, a: group_shares(rs, a)["male" if a == "gender" else "american"]),
    "stereotype": ("stereotype-claim rate", lambda rs, a: stereotype_claim_rate(rs, a).value),
}
RATIOS = (0.0, 0.1, 0.5, 1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("runs/foundation"))
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    console = Console(width=max(Console().width, 110))
    start = time.perf_counter()
    corpus = build_corpus(CorpusConfig(size=args.size, seed=args.seed))
    write_jsonl(corpus, args.out / "corpus.jsonl")
    gen = get_generator("builtin")
    table = Table(title=f"biasinherit: built-in corpus ({len(corpus)} records) and augmented data")
    table.add_column("bias type")
    table.add_column("statistic")
    table.add_column("original", justify="right")
    for r in RATIOS:
        table.add_column(f"mix r={r}", justify="right")
    for attribute in ("gender", "culture"):
        for expression, (label, stat) in STATISTIC.items():
            bias_type = f"{attribute}.{expression}"
            aug = gen.generate(corpus, GenerationRequest(bias_type=bias_type, intensity=1.0,
                                                         n=args.size, seed=args.seed))
            write_jsonl(aug, args.out / f"aug_{bias_type}.jsonl")
            row = [bias_type, label, f"{stat(corpus, attribute):.3f}"]
            for ratio in RATIOS:
                mixed = mix_at_ratio(corpus, aug, ratio=ratio, size=args.size, seed=args.seed)
                write_jsonl(mixed, args.out / f"mix_{bias_type}_r{ratio}.jsonl")
                row.append(f"{stat(mixed, attribute):.3f}")
            table.add_row(*row)
    console.print(table)
    console.print(f"files in {args.out} ({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
