"""biasinherit: measure and mitigate bias inheritance from LLM-augmented training data.

The pipeline (DESIGN §2), each stage a function with a typed config:

    build_corpus -> get_generator(...).generate -> mix_at_ratio -> train_model
        -> evaluation tasks -> run_audit -> run_study (the whole grid) -> write_report

Names are imported lazily so that ``import biasinherit`` (and the CLI's ``--help``) stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "BiasInheritError": "biasinherit.errors",
    "Record": "biasinherit.records",
    "read_records": "biasinherit.records",
    "write_records": "biasinherit.records",
    "load_taxonomy": "biasinherit.taxonomy",
    "CounterfactualSwapper": "biasinherit.taxonomy.swapper",
    "CorpusConfig": "biasinherit.corpora",
    "build_corpus": "biasinherit.corpora",
    "GenerationRequest": "biasinherit.generators",
    "get_generator": "biasinherit.generators",
    "mix_at_ratio": "biasinherit.mixing",
    "TrainConfig": "biasinherit.training.config",
    "train_model": "biasinherit.training.trainer",
    "load_model": "biasinherit.models",
    "AuditConfig": "biasinherit.analysis",
    "run_audit": "biasinherit.analysis",
    "StudyConfig": "biasinherit.studies",
    "load_study_config": "biasinherit.studies",
    "run_study": "biasinherit.studies",
    "write_report": "biasinherit.reporting",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'biasinherit' has no attribute '{name}'")
