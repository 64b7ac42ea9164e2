"""Real benchmarks: loaders for CrowS-Pairs, BBQ, WinoBias and Winogender, each mapped onto a task.

``load_benchmark(name, path)`` reads a local file (or folder) or, for a path that does not exist
and a network that does, a Hugging Face hub dataset id. Each benchmark scores with two named
protocols: ``original`` (the benchmark paper's, adapted to causal LMs as documented per module)
and ``lm-eval`` (exactly as lm-evaluation-harness 0.4 scores it).
"""

from __future__ import annotations

from typing import Any

from biasinherit.errors import BiasInheritError, unknown_name_error

__all__ = ["BENCHMARKS", "PROTOCOLS", "get_benchmark"]

PROTOCOLS = ("original", "lm-eval")

# name -> "module:Class"
BENCHMARKS = {
    "crows_pairs": "biasinherit.tasks.benchmarks.crows_pairs:CrowsPairsBenchmark",
    "bbq": "biasinherit.tasks.benchmarks.bbq:BBQBenchmark",
    "winobias": "biasinherit.tasks.benchmarks.winobias:WinoBiasBenchmark",
    "winogender": "biasinherit.tasks.benchmarks.winogender:WinogenderBenchmark",
}


def get_benchmark(name: str, protocol: str = "original") -> Any:
    import importlib

    if name not in BENCHMARKS:
        raise unknown_name_error("benchmark", name, BENCHMARKS)
    if protocol not in PROTOCOLS:
        raise BiasInheritError(f"unknown protocol '{protocol}' (use original or lm-eval)", field="--protocol")
    module, cls = BENCHMARKS[name].split(":")
    return getattr(importlib.import_module(module), cls)(protocol=protocol)
