"""Misalignment analysis (DESIGN §9): values, group data and data distribution of augmented
data against the original, the audit that runs all three, and the Spearman correlation of the
measures with downstream inheritance across a study.

Import cost is kept low: heavy libraries load inside the functions that need them.
"""

from biasinherit.analysis.audit import AuditConfig, AuditReport, run_audit, write_audit
from biasinherit.analysis.embeddings import DEFAULT_MODEL, EmbeddingModel
from biasinherit.analysis.measures import AnalysisResult, Measure

__all__ = [
    "DEFAULT_MODEL",
    "AnalysisResult",
    "AuditConfig",
    "AuditReport",
    "EmbeddingModel",
    "Measure",
    "run_audit",
    "write_audit",
]
