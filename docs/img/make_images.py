"""Render the README's two pictures from a real study's report (headless Chromium, as the
report tests use it): the inheritance curve of one metric, and the top of the report.

    biasinherit study --config docs/img/inheritance.toml --out runs/inheritance
    python docs/img/make_images.py runs/inheritance

Writes docs/img/inheritance.png and docs/img/report.png, each reduced to a small palette so
that it stays well under 200 KB.
"""

from __future__ import annotations

import io
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CURVE = "story / default_culture_share against the bias ratio"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]


def _small_png(png: bytes, path: Path, colors: int = 96) -> None:
    """The screenshot with an adaptive palette: text and flat plots lose nothing visible."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    image.quantize(colors=colors, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    print(f"wrote {path} ({path.stat().st_size // 1024} KB, {image.width}x{image.height})")


def main(run_dir: str) -> None:
    from playwright.sync_api import sync_playwright

    browser_path = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser_path is None:
        sys.exit("needs Debian's chromium (make chromium installs it)")
    report = Path(run_dir, "report.html").resolve()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path, args=ARGS)
        page = browser.new_page(viewport={"width": 1000, "height": 760}, device_scale_factor=1.5)
        page.goto(report.as_uri())
        _small_png(page.screenshot(), HERE / "report.png", colors=64)  # the top: findings, first table
        figure = page.locator("figure", has_text=CURVE).first.locator("svg")
        _small_png(figure.screenshot(), HERE / "inheritance.png")
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1])
