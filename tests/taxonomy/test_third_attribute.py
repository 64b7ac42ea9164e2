"""Adding an attribute is adding one data file: load it from a folder and generate with it."""

import json
import os
import subprocess
import sys
from pathlib import Path

from biasinherit.corpora import CorpusConfig, build_corpus
from biasinherit.generators import GenerationRequest
from biasinherit.generators.builtin import BuiltinGenerator
from biasinherit.generators.stats import stereotype_claim_rate
from biasinherit.records import Record, write_jsonl
from biasinherit.taxonomy import load_taxonomy

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from taxonomy_religion import write_religion  # noqa: E402


def test_religion_file_adds_three_bias_types(tmp_path):
    write_religion(tmp_path)
    tax = load_taxonomy([tmp_path])
    assert {"religion.stereotype", "religion.association", "religion.representation"} <= set(tax.bias_types)
    assert tax.detect_groups("She prays at the mosque.", ["religion"]) == ["religion:muslim"]


def test_generate_stereotype_and_representation_with_religion(tmp_path):
    write_religion(tmp_path)
    tax = load_taxonomy([tmp_path])
    gen = BuiltinGenerator(taxonomy=tax)
    corpus = build_corpus(CorpusConfig(size=200, seed=0), taxonomy=tax)
    out = gen.generate(corpus, GenerationRequest(bias_type="religion.stereotype", intensity=1.0, n=100, seed=0))
    assert stereotype_claim_rate(out, "religion", tax).value > 0.9
    texts = [Record(response=f"The {w} near my house is old.") for w in ("church", "mosque", "synagogue")]
    rep = gen.generate(texts, GenerationRequest(bias_type="religion.representation", intensity=1.0, n=3, seed=0))
    assert all("church" in r.response for r in rep), [r.response for r in rep]


def test_cli_reads_extra_taxonomy_from_environment(tmp_path):
    folder = tmp_path / "tax"
    folder.mkdir()
    write_religion(folder)
    corpus = tmp_path / "c.jsonl"
    write_jsonl(build_corpus(CorpusConfig(size=50, seed=0)), corpus)
    env = {**os.environ, "BIASINHERIT_TAXONOMY_PATH": str(folder)}
    out = tmp_path / "aug.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "biasinherit", "generate", "--bias-type", "religion.stereotype",
         "--input", str(corpus), "--n", "20", "--out", str(out)],
        capture_output=True, text=True, env=env,
    )
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 20 and all(r["bias_type"] == "religion.stereotype" for r in rows)
