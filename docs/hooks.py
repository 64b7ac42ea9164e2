"""MkDocs hooks: the pages that come from elsewhere in the repository, so nothing is copied by hand.

- The home page is the README, with its links into ``docs/`` made relative to the site.
- Files the README (or another repository page) links outside ``docs/``, such as
  ``CONTRIBUTING.md``, ``CHANGELOG.md`` and ``CITATION.cff``, are added at the same relative
  path, so the same links work on GitHub and on the site.
- The command-line, study-config and metrics references are rendered from the code
  (``docs/gen_reference.py``) every time the site is built.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# a Markdown link or image target: ](target) or ](target#anchor)
LINK = re.compile(r"\]\((?!https?://|mailto:|#)([^)\s#]+)(#[^)\s]*)?\)")


def _gen_reference() -> Any:
    """docs/gen_reference.py as a module (the docs folder is not a package)."""
    spec = importlib.util.spec_from_file_location("biasinherit_docs_gen_reference", DOCS / "gen_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def site_path(repo_path: str) -> str:
    """Where a repository file lives in the site: ``docs/x`` -> ``x``, ``README.md`` -> ``index.md``,
    anything else at its own path."""
    if repo_path.startswith("docs/"):
        return repo_path[len("docs/"):]
    return "index.md" if repo_path == "README.md" else repo_path


def rewrite_links(text: str) -> tuple[str, list[str]]:
    """A root-level page's links as the site sees them, and the repository files outside
    ``docs/`` they name (which the site must then carry)."""
    outside: list[str] = []

    def replace(match: re.Match[str]) -> str:
        target, anchor = match.group(1), match.group(2) or ""
        if not target.startswith("docs/") and target != "README.md":
            outside.append(target)
        return f"]({site_path(target)}{anchor})"

    return LINK.sub(replace, text), outside


def on_files(files: Files, config: Any) -> Files:
    pending = ["README.md"]
    seen: set[str] = set()
    while pending:  # the README, then every repository file it (or a page it adds) links to
        repo_path = pending.pop()
        if repo_path in seen:
            continue
        seen.add(repo_path)
        source = ROOT / repo_path
        if not source.is_file():
            continue  # left to MkDocs' own link check, which names the page and the link
        if source.suffix == ".md":
            text, outside = rewrite_links(source.read_text(encoding="utf-8"))
            pending.extend(outside)
            files.append(File.generated(config, site_path(repo_path), content=text))
        else:
            files.append(File.generated(config, repo_path, content=source.read_bytes()))
    generator = _gen_reference()
    for page, render in generator.PAGES.items():
        files.append(File.generated(config, page, content=render()))
    return files
