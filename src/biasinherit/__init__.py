"""biasinherit: measure and mitigate bias inheritance from LLM-augmented training data.

One function per command, the CLI's twin (same options, same defaults)::

    corpus -> generate -> audit -> mix -> train -> evaluate
    study (the whole grid, resumable) -> load_study -> report

Each accepts what users hold (paths, record lists, DataFrames, ``datasets`` objects, model
folders, hub ids, endpoints, models in memory) and returns what their tools read; files are
written only when ``out=`` is given. The lower-level pieces (``build_corpus``, ``mix_at_ratio``,
``train_model``, ``run_audit``, ``run_study``, ...) stay importable for those who build their
own pipeline.

Names are imported lazily so that ``import biasinherit`` (and the CLI's ``--help``) stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    # the API: one function per command
    "corpus": "biasinherit.api",
    "generate": "biasinherit.api",
    "mix": "biasinherit.api",
    "train": "biasinherit.api",
    "evaluate": "biasinherit.api",
    "audit": "biasinherit.api",
    "study": "biasinherit.api",
    "report": "biasinherit.api",
    "load_study": "biasinherit.studies.study",
    "Study": "biasinherit.studies.study",
    "RecordList": "biasinherit.records",
    "BiasInheritanceCallback": "biasinherit.integrations.trainer_callback",
    "write_lm_eval_tasks": "biasinherit.integrations.lm_eval_tasks",
    # the pieces below them
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
