"""Work shared by many cells, done once per study: the original data, one augmented set per
bias type (enough for the largest ratio), the pretrained base the cells fine-tune, and one
misalignment audit per bias type.

Every output is written by atomic rename, so a file that exists is complete and is reused when
the study resumes.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from biasinherit.records import Record, load_records, write_jsonl
from biasinherit.studies.config import StudyConfig
from biasinherit.studies.grid import augmented_needed

log = logging.getLogger(__name__)


def original_path(run_dir: Path) -> Path:
    return run_dir / "data" / "original.jsonl"


def augmented_path(run_dir: Path, bias_type: str) -> Path:
    return run_dir / "data" / "augmented" / f"{bias_type}.jsonl"


def audit_path(run_dir: Path, bias_type: str) -> Path:
    return run_dir / "audit" / f"{bias_type}.json"


def base_path(run_dir: Path) -> Path:
    return run_dir / "base"


def prepare_base(config: StudyConfig, run_dir: Path, original: list[Record]) -> Path | None:
    """The base model every cell fine-tunes (tiny models with ``[pretrain] enabled``): trained once
    on the original data, kept in the run folder and in the cache (keyed by the data, the options
    and the package versions), so another study on the same data reuses it. None: no base."""
    if not config.uses_base:
        return None
    import hashlib
    import shutil

    from biasinherit.models.io import package_versions
    from biasinherit.models.tiny import TINY_ACTIVATION
    from biasinherit.paths import cache_home
    from biasinherit.training.trainer import records_hash, save_trained, train_model

    target = base_path(run_dir)
    if (target / "biasinherit_model.json").exists():
        return target
    train_config = config.pretrain_config()
    key = hashlib.sha256(json.dumps({
        "data": records_hash(original), "train": train_config.model_dump(mode="json"),
        "versions": package_versions(), "activation": TINY_ACTIVATION,
    }, sort_keys=True).encode()).hexdigest()[:20]
    cached = cache_home() / "bases" / key
    if not (cached / "biasinherit_model.json").exists():
        log.info("pretraining the base model on %d original records", len(original))
        save_trained(train_model(train_config, original), cached)
    tmp = target.with_name(target.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(cached, tmp)
    tmp.rename(target)
    return target


def prepare_original(config: StudyConfig, run_dir: Path) -> list[Record]:
    path = original_path(run_dir)
    if path.exists():
        return load_records(path)
    if config.data.path:
        records = [r if r.source == "original" else r.model_copy(update={"source": "original"})
                   for r in load_records(config.data.path, columns=config.data.columns or None)]
    else:
        from biasinherit.corpora import CorpusConfig, build_corpus

        records = build_corpus(CorpusConfig(size=config.data.corpus_size, seed=0))
    write_jsonl(records, path)
    return records


def prepare_augmented(config: StudyConfig, run_dir: Path, bias_type: str,
                      original: list[Record]) -> list[Record]:
    path = augmented_path(run_dir, bias_type)
    if path.exists():
        return load_records(path)
    from biasinherit.generators import GenerationRequest, get_generator

    n = augmented_needed(config, len(original))
    request = GenerationRequest(
        bias_type=bias_type, intensity=config.intensity,
        polarity=config.polarity if bias_type.endswith(".stereotype") else None,
        n=n, seed=config.seeds[0],
    )
    generator = get_generator(config.generator.name, **config.generator.options)
    records = generator.generate(original, request)
    write_jsonl(records, path)
    return records


def prepare_audit(config: StudyConfig, run_dir: Path, bias_type: str, original: list[Record],
                  augmented: list[Record], *, embedder: Any = None) -> dict[str, Any]:
    """The misalignment measures of one bias type (subsampled for speed; the size is recorded)."""
    path = audit_path(run_dir, bias_type)
    if path.exists():
        return json.loads(path.read_text())  # type: ignore[no-any-return]
    from biasinherit.analysis.audit import AuditConfig, run_audit
    from biasinherit.records import atomic_write

    a = config.audit
    report = run_audit(original, augmented, AuditConfig(
        max_embedded=a.max_records, max_scored=a.max_records, n_permutations=a.permutations,
        n_frechet_permutations=a.frechet_permutations, stance_scorer=a.stance_scorer, seed=0),
        embedder=embedder)
    data = report.model_dump(mode="json")
    with atomic_write(path) as fh:
        json.dump(data, fh, indent=2)
    return data  # type: ignore[no-any-return]
