"""Fixtures shared by the whole suite."""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def pytest_configure(config: Any) -> None:
    import os
    import sys
    import tempfile

    # caches (embeddings, requests) go to a throw-away folder, never the user's home
    os.environ.setdefault("BIASINHERIT_CACHE", tempfile.mkdtemp(prefix="biasinherit-test-cache-"))
    # shared test helpers (tests/tiny_lm.py, tests/taxonomy_religion.py) import by module name
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)


@pytest.fixture(scope="session")
def render_in_chromium() -> Callable[[Path], dict[str, Any]]:
    """Open a local HTML file in headless Chromium (Debian's binary driven by Playwright).

    Returns the plots' rendered sizes, the screenshot (PNG bytes) and the screenshot's grey-level
    standard deviation (a blank page has ~0). Skips when Chromium is not installed.
    """
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (make chromium installs Debian's package)")

    def render(path: Path, *, screenshot: Path | None = None) -> dict[str, Any]:
        from PIL import Image, ImageStat
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(path.resolve().as_uri())
            sizes = page.evaluate(
                "Array.from(document.querySelectorAll('img.plot'))"
                ".map(i => [i.naturalWidth, i.getBoundingClientRect().height])")
            png = page.screenshot(full_page=True)
            browser.close()
        if screenshot is not None:
            screenshot.write_bytes(png)
        stddev = ImageStat.Stat(Image.open(io.BytesIO(png)).convert("L")).stddev[0]
        return {"sizes": sizes, "png": png, "stddev": stddev}

    return render
