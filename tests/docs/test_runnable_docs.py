"""Every command block marked runnable in docs/ runs as written (the README's: in
``test_readme_quickstarts.py``, a module of its own so that the suite's workers can run the two
at once), and the harness that runs them does what it says.

Each page's runnable blocks run in document order in a fresh temporary folder (see
``markdown_blocks``), so a documented command that stops working fails the suite.
"""

from __future__ import annotations

import pytest
from markdown_blocks import ROOT, failure_message, fenced_blocks, run_page, runnable_blocks

PAGES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").rglob("*.md"))
RUNNABLE = {page: runnable_blocks((ROOT / page).read_text(encoding="utf-8"), page) for page in PAGES}


@pytest.mark.slow
@pytest.mark.parametrize("page", [p for p in PAGES if RUNNABLE[p]])
def test_runnable_blocks_run_as_written(page, tmp_path, request):
    blocks = RUNNABLE[page]
    models_cache = request.getfixturevalue("smollm2_dir").parent if any("smollm2" in b.code for b in blocks) else None
    result = run_page(blocks, tmp_path, models_cache)
    assert result.returncode == 0, failure_message(page, result)


def test_every_guide_with_commands_has_runnable_ones():
    """The guides a reader follows step by step are tested, not only the README."""
    guides = {"docs/data.md", "docs/models.md", "docs/extending.md", "docs/studies.md"}
    assert guides <= {p for p in PAGES if RUNNABLE[p]}

# ---- the harness itself -------------------------------------------------------------------------

PAGE = """# A page

<!-- runnable -->
```bash
NAME=world
```

Some text.

```python
print("not runnable: no marker")
```

<!-- runnable: file=conf/greeting.txt -->
```text
hello
```

<!-- runnable -->
```bash
echo "$NAME" >> conf/greeting.txt
```

<!-- runnable -->
```python
from pathlib import Path
assert Path("conf/greeting.txt").read_text() == "hello\\nworld\\n", Path("conf/greeting.txt").read_text()
```
"""


def test_blocks_are_found_with_their_markers_and_lines():
    blocks = fenced_blocks(PAGE, "page.md")
    assert [(b.line, b.lang, b.marker) for b in blocks] == [
        (4, "bash", {}), (10, "python", None), (15, "text", {"file": "conf/greeting.txt"}),
        (20, "bash", {}), (25, "python", {})]
    assert [b.line for b in runnable_blocks(PAGE, "page.md")] == [4, 15, 20, 25]


def test_a_page_runs_in_order_with_shared_shell_state_and_files(tmp_path):
    result = run_page(runnable_blocks(PAGE, "page.md"), tmp_path)
    assert result.returncode == 0, result.stderr


def test_a_failing_block_fails_the_page_and_is_named(tmp_path):
    page = PAGE.replace('echo "$NAME" >> conf/greeting.txt', "biasinherit corpus --size 0 --out c.jsonl")
    result = run_page(runnable_blocks(page, "page.md"), tmp_path)
    assert result.returncode != 0
    last = [line for line in result.stderr.splitlines() if line.startswith(">>> ")][-1]
    assert last == ">>> page.md:20"


@pytest.mark.parametrize("text, message", [
    ("<!-- runnable -->\nSome text.\n", "not followed by a fenced block"),
    ("<!-- runnable -->\n", "not followed by a fenced block"),
    ("<!-- runnable -->\n```toml\na = 1\n```\n", "must be bash or python"),
    ("<!-- runnable: file=../x -->\n```toml\na = 1\n```\n", "relative path inside"),
    ("<!-- runnable: timeout=3 -->\n```bash\ntrue\n```\n", "unknown runnable option"),
    ("```bash\ntrue\n", "not closed"),
])
def test_a_malformed_marker_is_refused(text, message):
    with pytest.raises(ValueError, match=message):
        runnable_blocks(text, "page.md")
