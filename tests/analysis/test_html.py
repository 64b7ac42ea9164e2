"""The audit page renders in headless Chromium with its plots visible."""

import json
import shutil
from pathlib import Path

import pytest

from biasinherit.analysis import AuditConfig, run_audit, write_audit
from biasinherit.corpora import CorpusConfig, build_corpus
from biasinherit.generators import GenerationRequest
from biasinherit.generators.builtin import BuiltinGenerator

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def audit_dir(tmp_path_factory, embedder, embed_cache) -> Path:
    corpus = build_corpus(CorpusConfig(size=400, seed=3))
    aug = BuiltinGenerator().generate(corpus, GenerationRequest(bias_type="gender.association", n=400, seed=3))
    report = run_audit(corpus, aug, AuditConfig(cache_dir=embed_cache, max_embedded=120, n_permutations=50,
                                                 n_frechet_permutations=10, n_bootstrap=30), embedder=embedder)
    out = tmp_path_factory.mktemp("audit")
    write_audit(report, out, inputs={"original": "corpus.jsonl", "augmented": "aug.jsonl"})
    return out


def test_json_and_self_contained_html(audit_dir):
    data = json.loads((audit_dir / "audit.json").read_text())
    assert {"summary", "findings", "analyses", "config", "provenance"} <= set(data)
    assert {r["measure"] for r in data["summary"]} >= {"values.jsd", "groups.gender.share_tvd", "distribution.mmd"}
    page = (audit_dir / "audit.html").read_text()
    assert "http://" not in page and "https://" not in page  # nothing fetched from outside
    assert page.count("data:image/png;base64,") >= 4


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make chromium)")
def test_plots_visible_in_headless_chromium(audit_dir):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto((audit_dir / "audit.html").as_uri())
        sizes = page.evaluate(
            "Array.from(document.querySelectorAll('img.plot')).map(i => [i.naturalWidth, i.getBoundingClientRect().height])")
        png = page.screenshot(full_page=True)
        browser.close()
    assert len(sizes) >= 4 and all(w > 100 and h > 100 for w, h in sizes)
    import io

    from PIL import Image, ImageStat

    image = Image.open(io.BytesIO(png)).convert("L")
    assert ImageStat.Stat(image).stddev[0] > 10  # not a blank page
