"""Symbolic links as outputs and inputs: an output that is a link is written through (the link
stays a link, its target gets the content) and a loop is one line, for every kind of writer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from biasinherit.atomic import atomic_write
from biasinherit.errors import BiasInheritError
from biasinherit.links import check_not_a_loop, link_target
from biasinherit.outputs import check_output_file, check_output_folder, same_path


def _link(link: Path, target: Path | str) -> Path:
    os.symlink(target, link)
    return link


def test_atomic_write_through_a_link_keeps_the_link(tmp_path: Path) -> None:
    target = tmp_path / "data" / "v3.jsonl"
    target.parent.mkdir()
    target.write_text("old\n")
    link = _link(tmp_path / "current.jsonl", Path("data") / "v3.jsonl")  # relative, as people write them
    with atomic_write(link) as fh:
        fh.write("new\n")
    assert link.is_symlink() and os.readlink(link) == str(Path("data") / "v3.jsonl")
    assert target.read_text() == "new\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["v3.jsonl"]  # no temporary file left


def test_a_dangling_link_is_written_at_its_target(tmp_path: Path) -> None:
    link = _link(tmp_path / "out.jsonl", tmp_path / "made.jsonl")
    with atomic_write(link) as fh:
        fh.write("x\n")
    assert link.is_symlink() and (tmp_path / "made.jsonl").read_text() == "x\n"


@pytest.mark.parametrize("out_kind", ["jsonl", "csv", "parquet"])
def test_record_writers_write_through_a_link(tmp_path: Path, out_kind: str) -> None:
    import biasinherit
    from biasinherit.records import read_records

    target = tmp_path / f"real.{out_kind}"
    link = _link(tmp_path / f"link.{out_kind}", target)
    records = biasinherit.corpus(size=6, out=link)
    assert link.is_symlink() and [r.id for r in read_records(target)] == [r.id for r in records]
    mixed = biasinherit.mix(records, records[:0], ratio=0.0, out=link)  # a second writer, same link
    assert link.is_symlink() and len(read_records(target)) == len(mixed)


def test_a_dataset_folder_link_is_written_through(tmp_path: Path) -> None:
    import biasinherit
    from biasinherit.records import read_records

    target = tmp_path / "datasets" / "corpus"
    target.parent.mkdir()
    link = _link(tmp_path / "corpus-link", target)
    biasinherit.corpus(size=5, out=link, format="hf")
    assert link.is_symlink() and len(read_records(target)) == 5


def test_a_model_folder_link_is_written_through(tmp_path: Path) -> None:
    import biasinherit

    data = biasinherit.corpus(size=16)
    target = tmp_path / "models" / "m"
    target.parent.mkdir()
    link = _link(tmp_path / "model-link", target)
    biasinherit.train(data, model="tiny-xs", epochs=1, out=link)
    assert link.is_symlink() and (target / "biasinherit_model.json").is_file()
    biasinherit.train(data, model="tiny-xs", epochs=1, seed=1, out=link)  # again: the earlier model is replaced
    assert link.is_symlink() and (target / "biasinherit_model.json").is_file()
    assert not any(p.name.startswith(".m.") for p in target.parent.iterdir())


@pytest.mark.parametrize("loop", ["self", "pair", "parent"])
def test_a_loop_is_one_line_and_never_a_runtime_error(tmp_path: Path, loop: str) -> None:
    if loop == "self":
        path = _link(tmp_path / "a", "a")
    elif loop == "pair":
        _link(tmp_path / "b", "a")
        path = _link(tmp_path / "a", "b")
    else:
        path = _link(tmp_path / "d", "d") / "x.jsonl"
    for check in (lambda: check_not_a_loop(path, field="out"), lambda: check_output_file(path),
                  lambda: check_output_folder(path)):
        with pytest.raises(BiasInheritError, match="symlink loop"):
            check()
    assert not same_path(path, tmp_path / "other") and same_path(path, path)  # never raises
    assert link_target(tmp_path / "plain") == tmp_path / "plain"
