"""``biasinherit audit`` end to end: output files, bad input as one line with exit status 2."""

import json

import pytest

from biasinherit.cli import main
from biasinherit.records import Record, write_jsonl


def _run(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
        raise SystemExit(0)
    captured = capsys.readouterr()
    return exc.value.code, captured.out, captured.err


def _plain_file(path, n, offset=0):
    write_jsonl([Record(response=f"Item {i + offset}: the weather report said it would be mild and dry.")
                 for i in range(n)], path)
    return path


def test_empty_augmented_file_is_exit_2(tmp_path, capsys):
    orig = _plain_file(tmp_path / "o.jsonl", 5)
    (tmp_path / "a.jsonl").write_text("")
    code, _out, err = _run(["audit", str(orig), str(tmp_path / "a.jsonl")], capsys)
    assert code == 2
    assert err.strip().count("\n") == 0 and "a.jsonl" in err and "no records" in err


def test_unknown_embedding_model_is_exit_2(tmp_path, capsys):
    orig = _plain_file(tmp_path / "o.jsonl", 5)
    code, _out, err = _run(["audit", str(orig), str(orig), "--embedding-model", str(tmp_path / "missing")], capsys)
    assert code == 2
    assert err.strip().count("\n") == 0 and "embedding model" in err and "not found" in err


def test_no_group_mentions_is_a_clear_statement(tmp_path, capsys):
    orig = _plain_file(tmp_path / "o.jsonl", 30)
    aug = _plain_file(tmp_path / "a.jsonl", 30, offset=100)
    out_dir = tmp_path / "out"
    code, out, _err = _run(["audit", str(orig), str(aug), "--out", str(out_dir), "--cache-dir",
                            str(tmp_path / "cache"), "--permutations", "20"], capsys)
    assert code == 0
    assert "no group mentions were found" in out
    assert "nan" not in out.lower()
    data = json.loads((out_dir / "audit.json").read_text())
    groups = [r for r in data["summary"] if r["measure"].startswith(("groups.", "values."))]
    assert groups and all(r["value"] is None and r["reading"].startswith("not available:") for r in groups)
    assert (out_dir / "audit.html").exists()
