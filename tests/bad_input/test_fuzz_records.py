"""Generated record files (Hypothesis): whatever the bytes, reading them gives records or one
user error, never another exception; what is read is written back unchanged; and ``mix`` on
generated files exits 0 with a file or 2 with one line and no file."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from biasinherit.errors import BiasInheritError
from biasinherit.records import Record, load_records, record_from_mapping, write_jsonl

FIELDS = ["id", "prompt", "response", "source", "bias_type", "groups", "spans", "label", "meta"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
# mostly plausible records: the known fields with values of any JSON type, sometimes an extra key
record_like = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=6), json_values, max_size=6) | st.builds(
    lambda r, g, s, src: {"response": r, "groups": g, "spans": s, "source": src},
    st.text(max_size=30), st.lists(st.text(max_size=12), max_size=3),
    st.lists(st.fixed_dictionaries({"start": st.integers(-2, 40), "end": st.integers(-2, 40)}), max_size=2),
    st.sampled_from(["original", "augmented", "synthetic", 3]),
)
jsonl_lines = st.lists(
    st.one_of(record_like.map(json.dumps), json_values.map(json.dumps), st.text(max_size=40),
              st.just('{"response": "\\ud83d lone"}'), st.just("")),
    min_size=1, max_size=6,
).map(lambda lines: "\n".join(lines).encode("utf-8", "surrogatepass"))
file_bytes = jsonl_lines | st.binary(max_size=200)

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _read(data: bytes, suffix: str) -> list[Record] | BiasInheritError:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"records{suffix}"
        path.write_bytes(data)
        try:
            return load_records(path)
        except BiasInheritError as exc:
            assert "\n" not in exc.one_line()
            return exc


@FAST
@given(file_bytes)
def test_any_jsonl_bytes_read_or_one_user_error(data: bytes) -> None:
    _read(data, ".jsonl")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(file_bytes)
def test_any_csv_bytes_read_or_one_user_error(data: bytes) -> None:
    _read(data, ".csv")


@FAST
@given(record_like)
def test_a_record_read_is_written_back_unchanged(mapping: dict) -> None:  # type: ignore[type-arg]
    try:
        record = record_from_mapping(mapping)
    except BiasInheritError:
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "r.jsonl"
        write_jsonl([record], path)
        assert load_records(path) == [record]


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(original=jsonl_lines, augmented=jsonl_lines, ratio=st.sampled_from(["0", "0.5", "1"]))
def test_mix_on_generated_files_is_a_file_or_one_line(original: bytes, augmented: bytes, ratio: str) -> None:
    from bad_input_support import run_in_process

    with tempfile.TemporaryDirectory() as tmp:
        orig, aug, out = Path(tmp) / "o.jsonl", Path(tmp) / "a.jsonl", Path(tmp) / "m.jsonl"
        orig.write_bytes(original)
        aug.write_bytes(augmented)
        code, _, err = run_in_process(["mix", "--original", str(orig), "--augmented", str(aug), "--ratio", ratio,
                                       "--out", str(out)])
        lines = [line for line in err.splitlines() if line.strip()]
        if code == 0:
            assert out.exists() and load_records(out)
        else:
            assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
            assert not out.exists()
        assert orig.read_bytes() == original and aug.read_bytes() == augmented
