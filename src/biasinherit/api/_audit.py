"""``audit``: the misalignment of augmented data against the original, as a function."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from biasinherit.api._errors import keyword_errors
from biasinherit.errors import BiasInheritError

if TYPE_CHECKING:
    from biasinherit.analysis.audit import AuditReport

__all__ = ["audit"]


def audit(
    original: Any,
    augmented: Any,
    *,
    embedding_model: str = "all-MiniLM-L6-v2",
    cache_dir: str | Path | None = None,
    max_embedded: int = 2000,
    permutations: int = 200,
    seed: int = 0,
    include_parse_failed: bool = False,
    min_count: int = 20,
    columns: Mapping[str, str] | None = None,
    split: str | None = None,
    out: str | Path | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> AuditReport:
    """Compare ``augmented`` records with the ``original`` ones they augment: values, group
    data, data distribution. Returns the report (``.to_pandas()``: one row per measure;
    ``.findings``: the readings worth reading first); ``out`` writes ``audit.json`` and
    ``audit.html`` there."""
    from biasinherit.analysis.audit import AuditConfig, run_audit, write_audit
    from biasinherit.analysis.embeddings import EmbeddingModel
    from biasinherit.records import read_records

    def named(source: Any) -> str:
        return str(source) if isinstance(source, (str, Path)) else f"<{type(source).__name__}>"

    paths = [s for s in (original, augmented) if isinstance(s, (str, Path))]
    from biasinherit.links import check_not_a_loop

    for field, source in {"original": original, "augmented": augmented, "embedding_model": embedding_model}.items():
        if isinstance(source, (str, Path)):
            check_not_a_loop(source, field=field)
    if out is not None:  # before the work: a bad out used to fail after minutes of auditing
        from biasinherit.outputs import check_output_folder

        check_output_folder(out, inputs=paths, files=["audit.json", "audit.html"], field="out", kind="audit")
    if cache_dir is not None:
        from biasinherit.folder_kinds import check_folder_kind
        from biasinherit.outputs import check_output_folder

        check_output_folder(cache_dir, inputs=paths, field="cache_dir")
        check_folder_kind(cache_dir, None, field="cache_dir")  # a cache is no study, model, ... folder
    with keyword_errors({"n_permutations": "permutations"}):
        config = AuditConfig(embedding_model=embedding_model, cache_dir=Path(cache_dir) if cache_dir else None,
                             max_embedded=max_embedded, n_permutations=permutations, seed=seed,
                             include_parse_failed=include_parse_failed, min_count=min_count)
    embedder = EmbeddingModel(config.embedding_model, cache_dir=config.cache_dir)  # fail fast on a bad path
    orig = read_records(original, columns=columns, split=split)
    aug = read_records(augmented, columns=columns, split=split)
    if not orig:
        raise BiasInheritError("no records: nothing to compare with", path=named(original))
    if not aug:
        raise BiasInheritError("no records: nothing to audit", path=named(augmented))
    report = run_audit(orig, aug, config, embedder=embedder, progress=progress)
    if out is not None:
        write_audit(report, out, inputs={"original": named(original), "augmented": named(augmented)})
    return report
