"""What kind of folder a path is, read from the files each writer already leaves in it.

Every folder the toolkit writes says what it is through a file only that writer writes: a study
run has ``manifest.json``, an evaluation ``results.json``, an audit ``audit.json``, a model
``biasinherit_model.json`` (or, written by ``save_pretrained``, ``config.json`` with weights, or
an adapter's ``adapter_config.json``), a Hugging Face dataset folder ``dataset_info.json`` /
``state.json`` / ``dataset_dict.json``, an lm-eval task export ``biasinherit_lm_eval.json``.
Those files are the marker: no new file is needed, so folders written by any earlier version
are recognised as they are.

A command refuses, before any work, to write into a folder of another kind (an evaluation into
a study's run folder used to replace the study's ``results.csv``), and a file output refuses to
replace a file that a kind of folder owns (``corpus --out RUN/results.csv``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from biasinherit.errors import BiasInheritError

__all__ = ["KINDS", "FolderKind", "check_file_not_owned", "check_folder_kind", "folder_kinds"]

_WEIGHTS = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json", "pytorch_model.bin.index.json")


@dataclass(frozen=True)
class FolderKind:
    name: str  # "study run", "evaluation", ...
    markers: tuple[str, ...]  # any of these files makes a folder this kind
    owns: tuple[str, ...]  # files of this kind another command must not replace
    written_by: str  # how a user makes one, for messages

    def matches(self, folder: Path) -> str | None:
        """The marker file that makes ``folder`` this kind, or None."""
        for name in self.markers:
            if (folder / name).is_file():
                if name == "config.json" and not any((folder / w).is_file() for w in _WEIGHTS):
                    continue  # a config.json alone is not a model
                return name
        return None


KINDS: dict[str, FolderKind] = {k.name: k for k in (
    FolderKind("study run", ("manifest.json",),
               ("manifest.json", "results.parquet", "results.csv", "findings.csv", "summary.csv", "checks.json",
                "report.html"), "biasinherit study --out"),
    FolderKind("evaluation", ("results.json",), ("results.json", "results.csv"), "biasinherit evaluate --out"),
    FolderKind("audit", ("audit.json",), ("audit.json", "audit.html"), "biasinherit audit --out"),
    FolderKind("model", ("biasinherit_model.json", "adapter_config.json", "config.json"),
               ("biasinherit_model.json", "config.json", "adapter_config.json", "model.safetensors",
                "adapter_model.safetensors", "tokenizer.json", "tokenizer_config.json", "generation_config.json"),
               "biasinherit train --out"),
    FolderKind("dataset", ("dataset_info.json", "state.json", "dataset_dict.json"),
               ("dataset_info.json", "state.json", "dataset_dict.json", "README.md"), "--format hf --out"),
    FolderKind("lm-eval tasks", ("biasinherit_lm_eval.json",), ("biasinherit_lm_eval.json",),
               "biasinherit lm-eval-tasks"),
)}


def folder_kinds(folder: str | Path) -> dict[str, str]:
    """Kind name -> the marker file that says so, for every kind ``folder`` is ({} for a folder
    of no kind, a missing path or a file)."""
    folder = Path(folder)
    try:
        if not folder.is_dir():
            return {}
    except OSError:
        return {}
    found = {}
    for kind in KINDS.values():
        marker = kind.matches(folder)
        if marker is not None:
            found[kind.name] = marker
    return found


def _article(name: str) -> str:
    return "an" if name[0] in "aeiou" else "a"


def check_folder_kind(folder: str | Path, kind: str | None, *, field: str = "--out") -> None:
    """Refuse ``folder`` when it is a folder of another kind than ``kind`` (None: a folder that
    must be of no kind at all, such as a cache). A folder that is already of ``kind`` is taken
    whatever else it holds (a run folder an older version let an evaluation into stays usable)."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown folder kind {kind!r}")  # a programming error, not a user's
    found = folder_kinds(folder)
    if not found or kind in found:
        return
    name, marker = next(iter(found.items()))
    what = f"{_article(kind)} {kind}" if kind is not None else "a cache"
    raise BiasInheritError(
        f"is {_article(name)} {name} folder (it holds {marker}); writing {what} into it would mix the two: "
        "name a new or empty folder", path=folder, field=field)


def check_file_not_owned(path: str | Path, *, field: str = "--out") -> None:
    """Refuse a file output that would replace a file a kind of folder owns (``RUN/results.csv``
    of a study, ``MODEL/config.json``)."""
    path = Path(path)
    for name, marker in folder_kinds(path.parent).items():
        if path.name in KINDS[name].owns:
            raise BiasInheritError(
                f"would replace the {path.name} of {_article(name)} {name} folder (it holds {marker}); "
                "write to another file", path=path, field=field)
