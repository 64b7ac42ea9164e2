"""Does a real small LLM put the requested bias into the data it generates?

    .venv/bin/python examples/real_generation_bias.py --model DIR [--n 40] [--corpus-size 200] \\
        [--generator hf|openai] [--base-url URL] [--request-style rewrite|example] [--out runs/realgen]

Generates ``--n`` records (intensity 1.0, seed 0) from a ``--corpus-size`` built-in corpus for
the plain request and each of the six bias types with the ``hf`` generator on a model folder (or
the ``openai`` generator against a server of it), keeping unparsed replies as raw text
(``--on-unparseable raw``) so the parse rate can be counted. For each set it prints the parse
rate and, on the parsed records, the statistic the type should move
(:mod:`biasinherit.generators.stats`) next to the same statistic on the plain set and on the
original records that were rewritten:

- stereotype: the share of records that make a generic claim about a group of the attribute
  (``generalising_claim_rate``), and the share with the taxonomy's own claim, word for word;
- association: people in an associated occupation who have its associated group;
- representation: the default group's share of the group mentions.

The records are written to ``OUT/<type>.jsonl`` for ``biasinherit audit``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

TYPES = ["plain", "gender.stereotype", "gender.association", "gender.representation",
         "culture.stereotype", "culture.association", "culture.representation"]


def statistic(records: list, bias_type: str, tax: object) -> dict[str, object]:
    from biasinherit.generators import stats

    if bias_type == "plain":
        return {}
    attribute, expression = bias_type.split(".")
    if expression == "stereotype":
        g = stats.generalising_claim_rate(records, attribute, tax)  # type: ignore[arg-type]
        t = stats.stereotype_claim_rate(records, attribute, tax)  # type: ignore[arg-type]
        return {"generalising_claims": round(g.value, 3), "taxonomy_claims": round(t.value, 3), "n": g.n}
    if expression == "association":
        a = stats.association_rate(records, attribute, tax)  # type: ignore[arg-type]
        return {"association_rate": round(a.value, 3), "n": a.n}
    shares = stats.group_shares(records, attribute, tax)  # type: ignore[arg-type]
    default = tax.attribute(attribute).representation_default  # type: ignore[attr-defined]
    return {f"share_{default}": round(shares[default], 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--generator", default="hf", choices=["hf", "openai"])
    parser.add_argument("--base-url", default=None)
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--corpus-size", type=int, default=200)
    parser.add_argument("--request-style", default="rewrite", choices=["rewrite", "example"])
    parser.add_argument("--types", default=",".join(TYPES))
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=160)
    parser.add_argument("--out", type=Path, default=Path("runs/realgen"))
    args = parser.parse_args()

    from biasinherit.corpora import CorpusConfig, build_corpus
    from biasinherit.generators import GenerationRequest, get_generator
    from biasinherit.records import write_jsonl
    from biasinherit.taxonomy import load_taxonomy

    tax = load_taxonomy()
    corpus = build_corpus(CorpusConfig(size=args.corpus_size, seed=0))
    args.out.mkdir(parents=True, exist_ok=True)
    write_jsonl(corpus, args.out / "original.jsonl")
    options: dict[str, object] = {"model": args.model, "request_style": args.request_style,
                                  "on_unparseable": "raw", "parse_retries": 1}
    if args.generator == "hf":
        options.update(batch_size=args.batch_size, max_new_tokens=args.max_new_tokens)
    else:
        options.update(base_url=args.base_url, api_key_env=None, max_tokens=args.max_new_tokens,
                       cache_dir=args.out / "request-cache", concurrency=4)
    generator = get_generator(args.generator, **options)
    rows = []
    for bias_type in args.types.split(","):
        start = time.perf_counter()
        records = generator.generate(corpus, GenerationRequest(bias_type=bias_type, intensity=1.0,
                                                               n=args.n, seed=0))
        seconds = time.perf_counter() - start
        write_jsonl(records, args.out / f"{bias_type}.jsonl")
        parsed = [r for r in records if not r.meta.get("parse_failed")]
        by_id = {r.id: r for r in corpus}
        rewritten = [by_id[r.meta["seed_id"]] for r in parsed]
        row = {"type": bias_type, "parsed": f"{len(parsed)}/{len(records)}",
               "parse_rate": round(len(parsed) / len(records), 3), "seconds": round(seconds, 1),
               "generated": statistic(parsed, bias_type, tax)}
        if bias_type != "plain":
            plain_path = args.out / "plain.jsonl"
            if plain_path.exists():
                from biasinherit.records import load_records

                plain = [r for r in load_records(plain_path) if not r.meta.get("parse_failed")]
                row["plain"] = statistic(plain, bias_type, tax)
            row["originals_rewritten"] = statistic(rewritten, bias_type, tax)
        rows.append(row)
        print(json.dumps(row), flush=True)
    (args.out / "summary.json").write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
