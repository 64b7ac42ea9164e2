import json
import signal
import subprocess
import sys
import textwrap

import pytest

from biasinherit.errors import BiasInheritError
from biasinherit.records import (
    Record,
    Span,
    atomic_write,
    iter_jsonl,
    iter_records,
    load_hf_dataset,
    read_records,
    write_jsonl,
    write_records,
)


def _records(n: int = 5) -> list[Record]:
    return [
        Record(prompt=f"Q{i}?", response=f"Answer {i} by her.", groups=["gender:female"],
               spans=[Span(start=10, end=13, kind="group")], label="yes" if i % 2 else None,
               meta={"i": i, "nested": {"a": [1, 2]}})
        for i in range(n)
    ]


def test_id_is_derived_from_content_and_stable():
    a = Record(prompt="p", response="r")
    b = Record(prompt="p", response="r")
    assert a.id and a.id == b.id
    assert Record(prompt="p", response="other").id != a.id


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_round_trip_every_format(tmp_path, suffix):
    recs = _records()
    path = tmp_path / f"data{suffix}"
    assert write_records(recs, path) == len(recs)
    back = list(read_records(path))
    assert [r.model_dump() for r in back] == [r.model_dump() for r in recs]


def test_jsonl_streams_without_loading_everything(tmp_path):
    path = tmp_path / "big.jsonl"
    write_jsonl((Record(response=f"text {i}") for i in range(10_000)), path)
    it = iter_jsonl(path)
    first = next(it)
    assert first.response == "text 0"
    assert sum(1 for _ in it) == 9_999


def test_column_mapping_and_extra_fields(tmp_path):
    path = tmp_path / "foreign.jsonl"
    path.write_text(json.dumps({"text": "hello", "question": "q", "topic": "x"}) + "\n")
    rec = next(iter_records(path, columns={"response": "text", "prompt": "question"}, keep_extra=True))
    assert rec.response == "hello" and rec.prompt == "q" and rec.meta["topic"] == "x"
    with pytest.raises(BiasInheritError, match="mapped column 'body'"):
        next(iter_records(path, columns={"response": "body"}))


def test_hf_datasets_folder(tmp_path):
    import datasets

    ds = datasets.Dataset.from_dict({"text": ["a b", "c d"], "lbl": ["yes", "no"]})
    ds.save_to_disk(str(tmp_path / "ds"))
    recs = list(load_hf_dataset(str(tmp_path / "ds"), columns={"response": "text", "label": "lbl"}))
    assert [r.response for r in recs] == ["a b", "c d"] and recs[1].label == "no"
    assert [r.response for r in read_records(tmp_path / "ds", columns={"response": "text", "label": "lbl"})] == ["a b", "c d"]


@pytest.mark.parametrize(
    "line, expected",
    [
        ('{"prompt": "x"', r"bad\.jsonl:2: invalid JSON"),
        ('{"prompt": "x"}', r"bad\.jsonl:2 field 'response': required field is missing"),
        ('{"response": 5}', r"bad\.jsonl:2 field 'response': Input should be a valid string"),
        ('{"response": "r", "source": "llm"}', r"bad\.jsonl:2 field 'source'"),
        ('{"response": "r", "groups": ["female"]}', r"bad\.jsonl:2 field 'groups'"),
        ('{"response": "r", "spans": [{"start": 0, "end": 9}]}', r"bad\.jsonl:2: span \[0, 9\) is outside"),
        ('[1, 2]', r"bad\.jsonl:2: expected a JSON object"),
    ],
)
def test_malformed_jsonl_names_file_line_field(tmp_path, line, expected):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"response": "fine"}\n' + line + "\n")
    with pytest.raises(BiasInheritError, match=expected) as err:
        list(iter_jsonl(path))
    assert "\n" not in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(BiasInheritError, match="file not found"):
        list(read_records(tmp_path / "nope.jsonl"))


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.jsonl"
    target.write_text("old\n")
    with pytest.raises(RuntimeError):
        with atomic_write(target) as fh:
            fh.write("partial")
            raise RuntimeError("boom")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


def test_killed_writer_never_leaves_a_truncated_file(tmp_path):
    target = tmp_path / "out.jsonl"
    script = textwrap.dedent(f"""
        import os, signal
        from biasinherit.records import Record, write_jsonl
        def gen():
            for i in range(100000):
                if i == 5000:
                    os.kill(os.getpid(), signal.SIGKILL)
                yield Record(response="x" * 50)
        write_jsonl(gen(), {str(target)!r})
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert proc.returncode == -signal.SIGKILL
    assert not target.exists()
