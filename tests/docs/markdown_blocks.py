"""The fenced blocks of the documentation, and the script that runs a page's runnable ones.

A fenced block preceded by ``<!-- runnable -->`` is run as written; ``<!-- runnable: file=NAME -->``
writes the block's text to ``NAME`` instead (a config or data file the next blocks use). A page's
runnable blocks run in document order in one bash script, so a variable one ``bash`` block sets
is seen by the next, as in a reader's terminal; each ``python`` block runs in its own interpreter
at its place in that order.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[2]
PAGE_TIMEOUT_S = 300
MARKER = re.compile(r"^<!--\s*runnable(?::\s*(?P<args>.*?))?\s*-->\s*$")
FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)")
SHELLS = ("bash", "sh", "shell")


@dataclass(frozen=True)
class Block:
    """One fenced block: where it starts (1-based line of its opening fence), its language, its
    text, and its marker (None: not runnable; ``{}``: runnable; ``{"file": NAME}``: a file)."""

    page: str
    line: int
    lang: str
    code: str
    marker: dict[str, str] | None

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def _marker_args(args: str | None, where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in (args or "").split():
        key, sep, value = part.partition("=")
        if not sep or key != "file" or not value:
            raise ValueError(f"{where}: unknown runnable option '{part}' (known: file=NAME)")
        path = PurePosixPath(value)
        if path.is_absolute() or ".." in path.parts:
            raise ValueError(f"{where}: file={value} must be a relative path inside the work folder")
        out[key] = value
    return out


def fenced_blocks(text: str, page: str) -> list[Block]:
    """Every fenced block of a Markdown text, with the runnable marker that precedes it, if any."""
    lines = text.splitlines()
    blocks: list[Block] = []
    pending: tuple[int, dict[str, str]] | None = None  # a marker waiting for its block
    i = 0
    while i < len(lines):
        line = lines[i]
        marker = MARKER.match(line.strip())
        if marker:
            if pending is not None:
                raise ValueError(f"{page}:{pending[0]}: runnable marker not followed by a fenced block")
            pending = (i + 1, _marker_args(marker.group("args"), f"{page}:{i + 1}"))
            i += 1
            continue
        fence = FENCE.match(line)
        if fence:
            close = fence.group("fence")
            body: list[str] = []
            j = i + 1
            while j < len(lines) and not lines[j].startswith(close):
                body.append(lines[j])
                j += 1
            if j == len(lines):
                raise ValueError(f"{page}:{i + 1}: fenced block is not closed")
            blocks.append(Block(page, i + 1, fence.group("lang").lower(), "\n".join(body) + "\n",
                                pending[1] if pending else None))
            pending = None
            i = j + 1
            continue
        if pending is not None and line.strip():
            raise ValueError(f"{page}:{pending[0]}: runnable marker not followed by a fenced block")
        i += 1
    if pending is not None:
        raise ValueError(f"{page}:{pending[0]}: runnable marker not followed by a fenced block")
    return blocks


def runnable_blocks(text: str, page: str) -> list[Block]:
    """The runnable blocks of a page, checked: each runs as bash or python, or names a file."""
    out = []
    for block in fenced_blocks(text, page):
        if block.marker is None:
            continue
        if "file" not in block.marker and block.lang not in (*SHELLS, "python"):
            raise ValueError(f"{block.where}: a runnable block must be bash or python (or name a file=), "
                             f"not '{block.lang or 'plain'}'")
        out.append(block)
    return out


def page_script(blocks: list[Block], scripts_dir: Path) -> str:
    """One bash script that runs ``blocks`` in order; python blocks are written into
    ``scripts_dir`` (named after their page and line, so a traceback says which block failed)."""
    parts = ["set -euo pipefail"]
    for n, block in enumerate(blocks):
        parts.append(f"echo {shlex.quote('>>> ' + block.where)} >&2")
        delimiter = f"__DOCS_BLOCK_{n}__"
        if "file" in block.marker:  # type: ignore[operator]
            name = block.marker["file"]  # type: ignore[index]
            parts.append(f"mkdir -p {shlex.quote(str(PurePosixPath(name).parent))}")
            parts.append(f"cat > {shlex.quote(name)} <<'{delimiter}'\n{block.code}{delimiter}")
        elif block.lang == "python":
            stem = re.sub(r"[^\w]+", "_", block.page).strip("_")
            script = scripts_dir / f"{stem}_line{block.line}.py"
            script.write_text(block.code, encoding="utf-8")
            parts.append(f"python {shlex.quote(str(script))}")
        else:
            parts.append(block.code.rstrip("\n"))
    return "\n".join(parts) + "\n"


def _environment(cache: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["BIASINHERIT_CACHE"] = str(cache)
    env["HF_HUB_OFFLINE"] = "1"
    env["MPLBACKEND"] = "Agg"
    # one BLAS/OpenMP thread per process: on a machine whose cores other jobs share, threaded
    # BLAS made the audit's Frechet test several times slower; results do not depend on it
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = "1"
    env.pop("BIASINHERIT_TAXONOMY_PATH", None)
    return env


def run_page(blocks: list[Block], tmp_path: Path, models_cache: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run a page's runnable blocks in a fresh folder under ``tmp_path``, with the repository's
    ``examples/`` beside them as in a clone and, when given, a models cache holding the
    models the suite has fetched (nothing is downloaded twice)."""
    work, cache, scripts = tmp_path / "work", tmp_path / "cache", tmp_path / "scripts"
    for folder in (work, cache, scripts):
        folder.mkdir()
    (work / "examples").symlink_to(ROOT / "examples")
    if models_cache is not None:
        (cache / "models").symlink_to(models_cache)
    return subprocess.run(["bash", "-c", page_script(blocks, scripts)], cwd=work, env=_environment(cache),
                          capture_output=True, text=True, timeout=PAGE_TIMEOUT_S)


def failure_message(page: str, result: subprocess.CompletedProcess[str]) -> str:
    return (f"a runnable block of {page} failed (the last '>>> PAGE:LINE' names it):\n"
            f"{result.stderr[-6000:]}\n--- stdout ---\n{result.stdout[-2000:]}")
