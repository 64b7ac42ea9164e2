"""The command line: user mistakes give one line and exit 2; the happy path writes files."""

import json
import subprocess
import sys
import time

import pytest

from biasinherit.corpora import CorpusConfig, build_corpus
from biasinherit.records import write_jsonl


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "biasinherit", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd)


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "corpus.jsonl"
    write_jsonl(build_corpus(CorpusConfig(size=300, seed=0)), path)
    return path


def assert_user_error(proc, *fragments):
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_help_is_fast():
    start = time.perf_counter()
    proc = run("--help")
    assert proc.returncode == 0 and "corpus" in proc.stdout
    assert time.perf_counter() - start < 3.0  # includes interpreter start-up; ~0.2 s measured


def test_corpus_generate_mix(tmp_path, corpus_file):
    aug = tmp_path / "aug.jsonl"
    proc = run("generate", "--generator", "builtin", "--bias-type", "gender.association",
               "--intensity", "1.0", "--input", corpus_file, "--n", "200", "--seed", "0", "--out", aug)
    assert proc.returncode == 0, proc.stderr
    mixes = {}
    for ratio in (0, 0.1, 0.5, 1.0):
        out = tmp_path / f"mix{ratio}.jsonl"
        proc = run("mix", "--original", corpus_file, "--augmented", aug, "--ratio", ratio,
                   "--size", 200, "--seed", 0, "--out", out)
        assert proc.returncode == 0, proc.stderr
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        assert len(rows) == 200
        assert sum(r["source"] == "augmented" for r in rows) == round(ratio * 200)
        mixes[ratio] = {r["id"] for r in rows if r["source"] == "augmented"}
    assert mixes[0] <= mixes[0.1] <= mixes[0.5] <= mixes[1.0]


def test_malformed_jsonl(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"response": "ok"}\n{"prompt": "no response"}\n')
    assert_user_error(run("generate", "--input", bad, "--n", 5, "--out", tmp_path / "o.jsonl"),
                      "bad.jsonl:2", "response")
    bad.write_text('{"response": "ok"}\n{"response": ]\n')
    good = tmp_path / "good.jsonl"
    good.write_text('{"response": "fine", "source": "augmented"}\n')
    assert_user_error(run("mix", "--original", bad, "--augmented", good, "--ratio", 0.5, "--out", tmp_path / "o.jsonl"),
                      "bad.jsonl:2", "invalid JSON")
    bad.write_text('{"response": ["not", "a string"]}\n')
    assert_user_error(run("generate", "--input", bad, "--n", 5, "--out", tmp_path / "o.jsonl"),
                      "bad.jsonl:1", "response")
    assert not (tmp_path / "o.jsonl").exists()


def test_missing_file(tmp_path):
    assert_user_error(run("generate", "--input", tmp_path / "nope.jsonl", "--out", tmp_path / "o.jsonl"),
                      "nope.jsonl", "file not found")


def test_unknown_bias_type_did_you_mean(tmp_path, corpus_file):
    assert_user_error(run("generate", "--bias-type", "gender.asociation", "--input", corpus_file,
                          "--out", tmp_path / "o.jsonl"), "Unknown bias type", "Did you mean: gender.association")


@pytest.mark.parametrize("ratio", ["1.5", "-0.2"])
def test_bad_ratio(tmp_path, corpus_file, ratio):
    aug = tmp_path / "aug.jsonl"
    aug.write_text('{"response": "fine", "source": "augmented"}\n')
    assert_user_error(run("mix", "--original", corpus_file, "--augmented", aug, "--ratio", ratio,
                          "--out", tmp_path / "o.jsonl"), "'--ratio'")


def test_too_few_augmented(tmp_path, corpus_file):
    aug = tmp_path / "aug.jsonl"
    run("generate", "--bias-type", "plain", "--input", corpus_file, "--n", "10", "--out", aug)
    assert_user_error(run("mix", "--original", corpus_file, "--augmented", aug, "--ratio", 0.5,
                          "--size", 100, "--out", tmp_path / "o.jsonl"), "needs 50, there are 10")


def test_unknown_option_is_a_usage_error(tmp_path):
    proc = run("corpus", "--sise", "10")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_ctrl_c_inside_a_compiled_import_exits_130(monkeypatch, capsys):
    """Ctrl-C while a compiled module initialises reaches the CLI as an ImportError raised from
    the KeyboardInterrupt: the same exit 130 and message as any other Ctrl-C."""
    import biasinherit.cli as cli

    def interrupted_import(**_kwargs):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise ImportError("initialization failed") from exc

    monkeypatch.setattr(cli, "app", interrupted_import)
    with pytest.raises(SystemExit) as stop:
        cli.main(["corpus"])
    assert stop.value.code == 130
    assert capsys.readouterr().err.strip().startswith("interrupted")

    def broken_import(**_kwargs):
        raise ImportError("no module named x")

    monkeypatch.setattr(cli, "app", broken_import)
    with pytest.raises(ImportError):
        cli.main(["corpus"])
