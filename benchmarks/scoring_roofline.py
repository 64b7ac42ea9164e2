"""How close a model's forward pass runs to this CPU's matrix-multiply rate, in float32 and bfloat16.

Scoring (log-likelihood) is one forward pass over packed rows, so its cost is the model's
floating-point work divided by the rate the CPU sustains. This script measures, for each dtype:

- the matrix-multiply rate on the model's own projection shapes (``torch.nn.functional.linear``
  on ``--tokens`` rows, every distinct weight shape, weighted by how often the model uses it);
- the forward pass's rate: ``--batch`` rows of ``--length`` tokens, output head on the last
  position only (as the scorer does), counted as 2 floating-point operations per non-embedding
  parameter per token (attention's own products, a few per cent at these lengths, left out);
- the ratio of the two: the share of the matrix-multiply rate the whole model achieves.

A ratio near 1 means there is nothing left to win in float32 but fewer tokens or another dtype.

    .venv/bin/python benchmarks/scoring_roofline.py --model models/smollm2 --threads 2
"""

from __future__ import annotations

import argparse
import time
from collections import Counter


def _best(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="models/smollm2", help="a causal LM folder (transformers)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=16, help="rows in the forward pass")
    parser.add_argument("--length", type=int, default=128, help="tokens a row")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs (the fastest counts)")
    parser.add_argument("--dtypes", default="float32,bfloat16")
    args = parser.parse_args()

    import torch
    from transformers import AutoModelForCausalLM

    torch.set_num_threads(args.threads)
    tokens = args.batch * args.length
    print(f"model {args.model}, {args.threads} threads, forward on {args.batch} x {args.length} tokens, "
          f"fastest of {args.repeats}")
    for name in args.dtypes.split(","):
        dtype = getattr(torch, name)
        model = AutoModelForCausalLM.from_pretrained(args.model, dtype=dtype).eval()
        embed = model.get_input_embeddings().weight
        shapes = Counter(tuple(m.weight.shape) for m in model.modules()
                         if isinstance(m, torch.nn.Linear) and m.weight is not embed)
        params = sum(p.numel() for p in model.parameters() if p is not embed)
        flops_token = 2 * params
        # the matrix multiplies alone, on the model's shapes and as often as the model runs them
        mm_seconds = 0.0
        with torch.inference_mode():
            x = torch.randn(tokens, max(s[1] for s in shapes), dtype=dtype)
            for (out_f, in_f), count in shapes.items():
                w = torch.randn(out_f, in_f, dtype=dtype)
                xi = x[:, :in_f].contiguous()
                mm_seconds += count * _best(lambda w=w, xi=xi: torch.nn.functional.linear(xi, w), args.repeats)
        mm_flops = sum(2 * tokens * o * i * c for (o, i), c in shapes.items())
        ids = torch.randint(0, embed.shape[0], (args.batch, args.length))
        with torch.inference_mode():
            seconds = _best(lambda m=model: m(input_ids=ids, use_cache=False, logits_to_keep=1), args.repeats)
        mm_rate = mm_flops / mm_seconds / 1e9
        model_rate = flops_token * tokens / seconds / 1e9
        print(f"{name}: matrix multiplies {mm_rate:.0f} GFLOP/s; forward {tokens / seconds:.0f} tokens/s = "
              f"{model_rate:.0f} GFLOP/s ({params / 1e6:.0f}M non-embedding parameters), "
              f"{model_rate / mm_rate:.2f} of the matrix-multiply rate; the multiplies alone "
              f"{mm_seconds:.2f}s of the forward's {seconds:.2f}s")
        del model


if __name__ == "__main__":
    main()
