"""Records in every form people hold them (paths, lists, DataFrames, Datasets, DatasetDicts) and
out again (JSONL, CSV, Parquet, a Hugging Face dataset folder with its card)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import datasets
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from biasinherit.dataset_card import CardInfo, card_path, config_hash, render_card, size_category
from biasinherit.errors import BiasInheritError
from biasinherit.records import (
    Record,
    RecordList,
    Span,
    iter_records,
    load_records,
    output_format,
    read_records,
    write_records,
)


def _records() -> RecordList:
    """Originals and generated records with every field used: nested groups, spans, meta that
    differs in keys and value types between records, missing prompt and label."""
    from biasinherit.corpora import CorpusConfig, build_corpus
    from biasinherit.generators import GenerationRequest, get_generator

    corpus = build_corpus(CorpusConfig(size=12, seed=0))
    request = GenerationRequest(bias_type="gender.stereotype", intensity=0.5, polarity="negative", n=8, seed=0)
    augmented = get_generator("builtin").generate(corpus, request)
    extra = [Record(response="plain text, no prompt", label="7", meta={"x": [1, 2.5, None, {"y": "z"}]}),
             Record(prompt="", response="", meta={})]
    return RecordList([*corpus, *augmented, *extra])


RECORDS = _records()


def _front_matter(text: str) -> dict[str, Any]:
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n", 2)[1])


# ---------------------------------------------------------------------------------------------
# every source kind


def _as_source(kind: str, records: RecordList, tmp: Path) -> Any:
    if kind == "list":
        return list(records)
    if kind == "tuple":
        return tuple(records)
    if kind == "generator":
        return (r for r in records)
    if kind == "dicts":
        return [r.model_dump(mode="json") for r in records]
    if kind == "DataFrame":
        return records.to_pandas()
    if kind == "Dataset":
        return records.to_dataset()
    if kind == "DatasetDict":
        return datasets.DatasetDict({"train": records.to_dataset()})
    if kind == "DatasetDict folder":
        folder = tmp / "dd"
        datasets.DatasetDict({"train": records.to_dataset()}).save_to_disk(str(folder))
        return folder
    suffix = {"jsonl": ".jsonl", "csv": ".csv", "parquet": ".parquet", "hf": ""}[kind]
    path = tmp / f"data{suffix}"
    write_records(records, path, format=kind)
    return str(path) if kind == "csv" else path  # a str works as well as a Path


SOURCE_KINDS = ["list", "tuple", "generator", "dicts", "DataFrame", "Dataset", "DatasetDict", "DatasetDict folder",
                "jsonl", "csv", "parquet", "hf"]


@pytest.mark.parametrize("kind", SOURCE_KINDS)
def test_every_source_kind_round_trips(kind: str, tmp_path: Path) -> None:
    records = RECORDS if kind != "csv" else RecordList(r for r in RECORDS if r.prompt != "")  # see the CSV test
    source = _as_source(kind, records, tmp_path)
    back = read_records(source)
    assert isinstance(back, RecordList)
    assert back == records
    assert [r.model_dump() for r in iter_records(_as_source(kind, records, tmp_path / "again"))] == \
        [r.model_dump() for r in records]


def test_csv_has_no_null_so_an_empty_prompt_reads_as_none(tmp_path: Path) -> None:
    """The one thing CSV cannot keep: '' and null are the same empty field (response excepted)."""
    path = tmp_path / "d.csv"
    write_records([Record(prompt="", response="", label="")], path)
    (back,) = read_records(path)
    assert back.prompt is None and back.label is None and back.response == ""


@pytest.mark.parametrize("kind", ["DataFrame", "Dataset"])
def test_dataframes_and_datasets_used_to_be_refused(kind: str) -> None:
    """Both raised ``TypeError: expected str, bytes or os.PathLike``."""
    source = RECORDS.to_pandas() if kind == "DataFrame" else RECORDS.to_dataset()
    assert read_records(source) == RECORDS


def test_load_records_is_read_records() -> None:
    assert load_records is read_records


def test_iter_records_streams() -> None:
    def source():  # type: ignore[no-untyped-def]
        yield {"response": "first"}
        raise RuntimeError("read past the first record")

    assert next(iter_records(source())).response == "first"


def test_reading_imports_neither_pandas_nor_datasets_for_jsonl_and_lists(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"response": "a"}\n')
    code = (f"import sys; from biasinherit.records import read_records; "
            f"assert read_records({str(path)!r})[0].response == 'a'; assert read_records([{{'response': 'b'}}]); "
            "print(sorted(m for m in ('pandas', 'datasets', 'pyarrow') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------------------------------------
# DataFrames: foreign names, empty cells, errors that name the row


def test_dataframe_with_foreign_column_names_and_nan_cells() -> None:
    frame = pd.DataFrame({
        "output": ["A nurse helped.", "He fixed it.", "They left."],
        "instruction": ["Tell me.", float("nan"), None],
        "tag": ["yes", pd.NA, "no"],
        "uid": [7, 8, 9],
        "kind": ["a", None, float("nan")],
    })
    records = read_records(frame, columns={"response": "output", "prompt": "instruction", "label": "tag",
                                           "id": "uid"}, keep_extra=True)
    assert [r.prompt for r in records] == ["Tell me.", None, None]
    assert [r.label for r in records] == ["yes", None, "no"]
    assert [r.id for r in records] == ["7", "8", "9"]  # whole numbers read as text, as from CSV
    assert [r.meta for r in records] == [{"kind": "a"}, {}, {}]  # an empty extra cell is no meta key


@pytest.mark.parametrize("column", ["prompt", "bias_type", "groups", "spans", "label", "meta", "id", "source"])
@pytest.mark.parametrize("empty", [None, float("nan"), pd.NA], ids=["None", "NaN", "NA"])
def test_an_empty_cell_in_any_column_is_a_missing_field(column: str, empty: Any) -> None:
    frame = pd.DataFrame({"response": ["x", "y"], column: [empty, empty]}, dtype=object)
    default = Record(response="x")
    (first, _) = read_records(frame)
    assert getattr(first, column) == getattr(default, column)


def test_a_nan_prompt_used_to_fail_record_from_mapping() -> None:
    frame = pd.DataFrame({"prompt": ["p", float("nan")], "response": ["a", "b"]})
    assert [r.prompt for r in read_records(frame)] == ["p", None]


def test_dataframe_errors_name_the_row_and_the_field() -> None:
    frame = pd.DataFrame({"response": ["ok", "fine"], "groups": [["gender:female"], ["female"]]})
    with pytest.raises(BiasInheritError, match=r"^<DataFrame> row 1 field 'groups': group 'female'"):
        read_records(frame)
    with pytest.raises(BiasInheritError, match=r"^<DataFrame> row 1 field 'response': required field is missing"):
        read_records(frame.assign(response=["ok", float("nan")], groups=[[], []]))


def test_a_table_is_checked_before_its_first_row() -> None:
    frame = pd.DataFrame({"text": ["a"], "extra": [1]})
    with pytest.raises(BiasInheritError, match=r"<DataFrame> field 'output': mapped column 'output' .*Columns: text"):
        iter_records(frame, columns={"response": "output"})  # raised by the call, not by the first next()
    with pytest.raises(BiasInheritError, match=r"field 'extra': unknown column 'extra'.*keep_extra"):
        iter_records(frame, columns={"response": "text"})
    with pytest.raises(BiasInheritError, match=r"no 'response' column"):
        iter_records(frame[["extra"]], keep_extra=True)
    assert read_records(frame, columns={"response": "text"}, keep_extra=True)[0].meta == {"extra": 1}


def test_a_mapping_written_backwards_is_refused() -> None:
    with pytest.raises(BiasInheritError, match=r"'output' is not a record field; columns maps ours to yours"):
        read_records([{"output": "x"}], columns={"output": "response"})


SOURCE_WITH_FOREIGN_NAMES = ["dicts", "DataFrame", "Dataset", "jsonl", "csv", "parquet", "hf folder"]


@pytest.mark.parametrize("kind", SOURCE_WITH_FOREIGN_NAMES)
def test_column_mapping_works_for_every_source_kind(kind: str, tmp_path: Path) -> None:
    rows = [{"output": "She helped.", "instruction": "Who?", "tags": ["gender:female"], "cls": "x"},
            {"output": "He left.", "instruction": None, "tags": [], "cls": "y"}]
    frame = pd.DataFrame(rows)
    source: Any = {
        "dicts": rows,
        "DataFrame": frame,
        "Dataset": datasets.Dataset.from_list(rows),
    }.get(kind)
    if kind == "jsonl":
        source = tmp_path / "f.jsonl"
        source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    elif kind == "csv":
        source = tmp_path / "f.csv"
        frame.assign(tags=[json.dumps(t) for t in frame.tags]).to_csv(source, index=False)
    elif kind == "parquet":
        source = tmp_path / "f.parquet"
        frame.to_parquet(source)
    elif kind == "hf folder":
        source = tmp_path / "folder"
        datasets.Dataset.from_list(rows).save_to_disk(str(source))
    records = read_records(source, columns={"response": "output", "prompt": "instruction", "groups": "tags",
                                            "label": "cls"})
    assert [(r.response, r.prompt, r.groups, r.label) for r in records] == [
        ("She helped.", "Who?", ["gender:female"], "x"), ("He left.", None, [], "y")]


# ---------------------------------------------------------------------------------------------
# datasets: Dataset, DatasetDict, folders


def test_datasetdict_with_and_without_split(tmp_path: Path) -> None:
    dd = datasets.DatasetDict({"train": RecordList(RECORDS[:3]).to_dataset(),
                               "test": RecordList(RECORDS[3:5]).to_dataset()})
    with pytest.raises(BiasInheritError, match=r"<DatasetDict> field 'split': a DatasetDict with splits train, test"):
        read_records(dd)
    assert read_records(dd, split="test") == RECORDS[3:5]
    with pytest.raises(BiasInheritError, match=r"no split 'tset' \(available: train, test\)\. Did you mean: test\?"):
        read_records(dd, split="tset")
    assert read_records(datasets.DatasetDict({"only": RecordList(RECORDS[:2]).to_dataset()})) == RECORDS[:2]
    dd.save_to_disk(str(tmp_path / "dd"))
    assert read_records(tmp_path / "dd", split="train") == RECORDS[:3]
    with pytest.raises(BiasInheritError, match=r"dd field 'split': a DatasetDict with splits"):
        read_records(tmp_path / "dd")


def test_dataset_errors_name_the_split_and_row() -> None:
    dd = datasets.DatasetDict({"test": datasets.Dataset.from_dict({"response": ["a", "b"],
                                                                   "source": ["original", "llm"]})})
    with pytest.raises(BiasInheritError, match=r"^<DatasetDict>\['test'\] row 1 field 'source'"):
        read_records(dd)


def test_split_is_ignored_by_sources_without_splits_but_a_wrong_declared_split_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    write_records(RECORDS[:2], path)
    assert read_records(path, split="train") == RECORDS[:2]  # one split= may serve several inputs
    ds = datasets.Dataset.from_dict({"response": ["a"]}, split="train")
    assert read_records(ds, split="train")[0].response == "a"
    with pytest.raises(BiasInheritError, match="this dataset is the 'train' split, not 'test'"):
        read_records(ds, split="test")


def test_dataset_classlabels_formats_and_iterable_datasets() -> None:
    features = datasets.Features({"text": datasets.Value("string"),
                                  "label": datasets.ClassLabel(names=["neg", "pos"])})
    ds = datasets.Dataset.from_dict({"text": ["bad", "good", "?"], "label": [0, 1, -1]}, features=features)
    expected = [("bad", "neg"), ("good", "pos"), ("?", None)]
    for source in (ds, ds.with_format("numpy"), ds.to_iterable_dataset()):
        assert [(r.response, r.label) for r in read_records(source, columns={"response": "text"})] == expected


def test_a_parquet_file_of_the_old_layout_still_reads(tmp_path: Path) -> None:
    """Parquet files written before this change hold groups/spans/meta as JSON strings."""
    rows = [r.model_dump(mode="json") for r in RECORDS]
    for row in rows:
        for key in ("groups", "spans", "meta"):
            row[key] = json.dumps(row[key])
    pd.DataFrame(rows).to_parquet(tmp_path / "old.parquet", index=False)
    assert read_records(tmp_path / "old.parquet") == RECORDS


def test_to_pandas_holds_python_objects_not_json() -> None:
    frame = RECORDS.to_pandas()
    assert list(frame.columns) == list(Record.model_fields)
    row = frame.iloc[next(i for i, r in enumerate(RECORDS) if r.spans and "generation" in r.meta)]
    assert isinstance(row["spans"], list) and isinstance(row["spans"][0], dict)
    assert isinstance(row["meta"], dict) and row["meta"]["generation"]["generator"] == "builtin"
    assert isinstance(row["groups"], list)
    assert read_records(frame) == RECORDS
    assert RecordList().to_pandas().shape == (0, len(Record.model_fields))
    assert isinstance(RECORDS[:2], RecordList) and RECORDS[:2].to_pandas().shape[0] == 2
    assert len(RecordList().to_dataset()) == 0


def test_sources_that_are_not_records_are_user_errors() -> None:
    with pytest.raises(BiasInheritError, match=r"cannot read records from a int"):
        read_records(5)  # type: ignore[arg-type]
    with pytest.raises(BiasInheritError, match=r"one mapping is a record.*pass a list"):
        read_records({"response": "x"})  # type: ignore[arg-type]
    with pytest.raises(BiasInheritError, match=r"^<list> item 1: expected a Record or a mapping, got str"):
        read_records([{"response": "x"}, "y"])
    with pytest.raises(BiasInheritError, match=r"^<list> item 0 field 'response': required field is missing"):
        read_records([{"prompt": "x"}])


# ---------------------------------------------------------------------------------------------
# writing: formats, refusals, atomic folders


def test_a_folder_like_name_without_format_is_refused(tmp_path: Path) -> None:
    """It used to be written as a JSONL file named like a folder."""
    with pytest.raises(BiasInheritError, match=r"out_dir field 'format': cannot tell the output format.*format='hf'"):
        write_records(RECORDS, tmp_path / "out_dir")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("name", "fmt", "expected"), [
    ("a.jsonl", None, "jsonl"), ("a.json", None, "jsonl"), ("a.NDJSON", None, "jsonl"), ("a.csv", None, "csv"),
    ("a.parquet", None, "parquet"), ("a.pq", None, "parquet"), ("folder", "hf", "hf"), ("a.v2", "hf", "hf"),
    ("a.parquet", "parquet", "parquet"), ("records", "jsonl", "jsonl"), ("a.jsonl", "JSONL", "jsonl"),
])
def test_output_format(name: str, fmt: str | None, expected: str) -> None:
    assert output_format(name, fmt) == expected


@pytest.mark.parametrize(("name", "fmt", "message"), [
    ("a.jsonl", "hf", r"the suffix '\.jsonl' says jsonl but format is 'hf'"),
    ("a.csv", "parquet", "says csv but format is 'parquet'"),
    ("a.parquet", "paruqet", r"unknown format 'paruqet'\. Did you mean: parquet\?"),
    ("a.txt", None, "cannot tell the output format"),
])
def test_output_format_refusals(tmp_path: Path, name: str, fmt: str | None, message: str) -> None:
    with pytest.raises(BiasInheritError, match=message):
        write_records(RECORDS, tmp_path / name, format=fmt)
    assert list(tmp_path.iterdir()) == []


def test_an_existing_folder_or_device_without_format_says_what_it_is(tmp_path: Path) -> None:
    with pytest.raises(BiasInheritError, match=r"field 'format': is a folder: name a file ending in .*format='hf'"):
        output_format(tmp_path)
    with pytest.raises(BiasInheritError, match=r"^/dev/null: is not a regular file"):
        output_format("/dev/null")
    assert output_format(tmp_path, "hf") == "hf"


def test_as_records_passes_records_in_memory_through(tmp_path: Path) -> None:
    from biasinherit.records import as_records

    records = list(RECORDS)
    assert as_records(records) is records
    assert as_records(RECORDS.to_pandas()) == RECORDS
    assert as_records([{"text": "a"}], columns={"response": "text"})[0].response == "a"


@pytest.mark.parametrize("kind", ["DataFrame", "Dataset", "jsonl", "dicts"])
def test_write_records_takes_any_source(kind: str, tmp_path: Path) -> None:
    source = _as_source(kind, RECORDS, tmp_path)
    assert write_records(source, tmp_path / "out.parquet") == len(RECORDS)
    assert read_records(tmp_path / "out.parquet") == RECORDS


def test_dataset_folder_reads_back_with_datasets_and_read_records(tmp_path: Path) -> None:
    folder = tmp_path / "mix"
    assert write_records(RECORDS, folder, format="hf") == len(RECORDS)
    ds = datasets.load_from_disk(str(folder))
    assert len(ds) == len(RECORDS)
    assert ds.features["groups"] == datasets.List(datasets.Value("string"))
    assert ds.features["spans"] == datasets.List({"start": datasets.Value("int64"), "end": datasets.Value("int64"),
                                                  "kind": datasets.Value("string")})
    assert ds.features["meta"] == datasets.Value("string")
    assert ds[0]["spans"] == [s.model_dump() for s in RECORDS[0].spans]
    assert json.loads(ds[0]["meta"]) == RECORDS[0].meta
    assert read_records(folder) == RECORDS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mix"]  # no temporary sibling left


def test_the_card_yaml_parses_and_holds_the_counts(tmp_path: Path) -> None:
    from huggingface_hub import DatasetCard

    config = {"command": "mix", "ratio": 0.5, "seed": 0}
    folder = tmp_path / "mix"
    write_records(RECORDS, folder, format="hf", card={
        "source": tmp_path / "corpus.jsonl", "ratio": 0.5, "license": "cc-by-4.0", "config": config})
    text = (folder / "README.md").read_text()
    meta = _front_matter(text)
    assert meta["license"] == "cc-by-4.0" and meta["language"] == ["en"]
    assert meta["size_categories"] == ["n<1K"] and meta["task_categories"] == ["text-generation"]
    assert meta["tags"] == ["biasinherit", "bias", "synthetic"]
    prov = meta["biasinherit"]
    n_aug = sum(r.source == "augmented" for r in RECORDS)
    n_stereo = sum(r.bias_type == "gender.stereotype" for r in RECORDS)
    assert prov["records"] == len(RECORDS)
    assert prov["by_source"] == {"original": len(RECORDS) - n_aug, "augmented": n_aug}
    assert prov["by_bias_type"] == {"none": len(RECORDS) - n_stereo, "gender.stereotype": n_stereo}
    # from meta.generation, since the card did not say
    assert prov["generator"] == "builtin" and prov["bias_types"] == ["gender.stereotype"]
    assert prov["intensity"] == 0.5 and prov["polarity"] == "negative"
    assert prov["ratio"] == 0.5 and prov["augmented_share"] == pytest.approx(n_aug / len(RECORDS), abs=1e-6)
    assert prov["source_records"] == str(tmp_path / "corpus.jsonl")
    assert prov["config_hash"] == config_hash({"seed": 0, "ratio": 0.5, "command": "mix"})  # canonical: key order
    assert prov["config_hash"] != config_hash({**config, "seed": 1})
    assert f"| gender.stereotype | 0 | {n_stereo} | {n_stereo} |" in text
    assert f"| **total** | {len(RECORDS) - n_aug} | {n_aug} | {len(RECORDS)} |" in text
    assert "| biasinherit version | 0.1.0 |" in text
    card = DatasetCard.load(folder / "README.md")  # the hub's own parser agrees
    assert card.data.license == "cc-by-4.0" and card.data.to_dict()["biasinherit"]["records"] == len(RECORDS)


def test_the_card_says_what_the_caller_knows_first() -> None:
    from biasinherit.dataset_card import RecordStats

    stats = RecordStats()
    for record in RECORDS[:3]:  # originals only
        stats.observe(record)
    text = render_card(CardInfo(generator="openai", model="llama-3", bias_type="culture.association, plain",
                                intensity=1.0), stats, name="x.jsonl", fmt="jsonl")
    prov = _front_matter(text)["biasinherit"]
    assert (prov["generator"], prov["model"], prov["bias_types"], prov["intensity"]) == (
        "openai", "llama-3", ["culture.association", "plain"], 1.0)
    assert _front_matter(text)["tags"] == ["biasinherit", "bias"]  # nothing augmented: not synthetic
    assert "| config hash | not given |" in text


def test_the_card_needs_no_huggingface_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    from biasinherit.dataset_card import RecordStats

    stats = RecordStats()
    stats.observe(RECORDS[-3])
    with_hub = render_card(CardInfo(), stats, name="x", fmt="parquet")
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)  # import fails as if not installed
    without = render_card(CardInfo(), stats, name="x", fmt="parquet")
    assert _front_matter(without) == _front_matter(with_hub)
    assert without.split("---\n", 2)[2] == with_hub.split("---\n", 2)[2]


def test_a_bad_card_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(BiasInheritError, match=r"field 'card.ratoi': unknown card field 'ratoi'\. Did you mean: ratio"):
        write_records(RECORDS, tmp_path / "x", format="hf", card={"ratoi": 0.5})
    with pytest.raises(BiasInheritError, match=r"field 'card.ratio'"):
        write_records(RECORDS, tmp_path / "x.parquet", card={"ratio": 2})
    assert list(tmp_path.iterdir()) == []


def test_parquet_gets_its_card_beside_it_and_jsonl_only_when_asked(tmp_path: Path) -> None:
    write_records(RECORDS, tmp_path / "mix.parquet")
    assert card_path(tmp_path / "mix.parquet") == tmp_path / "mix.parquet.README.md"
    assert _front_matter((tmp_path / "mix.parquet.README.md").read_text())["biasinherit"]["records"] == len(RECORDS)
    write_records(RECORDS, tmp_path / "plain.jsonl")
    assert not (tmp_path / "plain.jsonl.README.md").exists()
    write_records(RECORDS, tmp_path / "carded.csv", card={"source": "corpus.jsonl"})
    assert _front_matter((tmp_path / "carded.csv.README.md").read_text())["biasinherit"]["source_records"] == \
        "corpus.jsonl"


def test_a_folder_is_replaced_only_when_it_is_a_datasets_folder(tmp_path: Path) -> None:
    folder = tmp_path / "ds"
    write_records(RECORDS, folder, format="hf")
    write_records(RECORDS[:2], folder, format="hf")  # a datasets folder: replaced
    assert read_records(folder) == RECORDS[:2]
    assert not list(tmp_path.glob(".*"))
    empty = tmp_path / "empty"
    empty.mkdir()
    write_records(RECORDS[:1], empty, format="hf")
    assert read_records(empty) == RECORDS[:1]
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(BiasInheritError, match="mine: is a folder that holds other files"):
        write_records(RECORDS, mine, format="hf")
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    (tmp_path / "afile").write_text("x")
    with pytest.raises(BiasInheritError, match="exists and is a file"):
        write_records(RECORDS, tmp_path / "afile", format="hf")
    (tmp_path / "weird.parquet").mkdir()
    with pytest.raises(BiasInheritError, match="is a folder; a parquet file needs a file name"):
        write_records(RECORDS, tmp_path / "weird.parquet")


def test_an_interrupted_folder_write_leaves_the_old_folder_and_no_debris(tmp_path: Path) -> None:
    folder = tmp_path / "ds"
    write_records(RECORDS[:2], folder, format="hf")

    def failing():  # type: ignore[no-untyped-def]
        yield from RECORDS[:5]
        raise RuntimeError("the generator died")

    with pytest.raises(RuntimeError, match="generator died"):
        write_records(failing(), folder, format="hf")
    assert read_records(folder) == RECORDS[:2]
    with pytest.raises(BiasInheritError, match=r"<generator> item 1 field 'response'"):
        write_records((d for d in [{"response": "a"}, {"prompt": "no response"}]), tmp_path / "new", format="hf")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet", "hf"])
def test_no_records_is_a_file_of_no_records(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / ("empty" if fmt == "hf" else f"empty.{fmt}")
    assert write_records([], path, format=fmt) == 0
    assert read_records(path) == []
    if fmt == "hf":
        assert _front_matter((path / "README.md").read_text())["biasinherit"]["records"] == 0


@pytest.mark.parametrize(("n", "category"), [(0, "n<1K"), (999, "n<1K"), (1000, "1K<n<10K"),
                                             (99_999, "10K<n<100K"), (100_000, "100K<n<1M"), (10**9, "n>1B")])
def test_size_category(n: int, category: str) -> None:
    assert size_category(n) == category


# ---------------------------------------------------------------------------------------------
# Hypothesis: arbitrary records through every format

_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=24)
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False, allow_infinity=False) | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3), max_leaves=8)


@st.composite
def _record(draw: st.DrawFn, csv: bool = False) -> Record:
    optional = st.none() | (_text.filter(bool) if csv else _text)  # CSV: '' and null are one empty field
    response = draw(_text)
    spans = []
    for a, b, kind in draw(st.lists(st.tuples(st.integers(0, len(response)), st.integers(0, len(response)), _text),
                                    max_size=3)):
        spans.append(Span(start=min(a, b), end=max(a, b), kind=kind))
    groups = draw(st.lists(st.builds(lambda a, g: f"{a}:{g}", _text, _text), max_size=3))
    return Record(id=draw(_text), prompt=draw(optional), response=response,
                  source=draw(st.sampled_from(["original", "augmented"])), bias_type=draw(optional), groups=groups,
                  spans=spans, label=draw(optional), meta=draw(st.dictionaries(_text, _json, max_size=4)))


def _round_trip(records: list[Record], fmt: str) -> list[Record]:
    if fmt == "DataFrame":
        return read_records(RecordList(records).to_pandas())
    if fmt == "Dataset":
        return read_records(RecordList(records).to_dataset())
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("out" if fmt == "hf" else f"out.{fmt}")
        write_records(records, path, format=fmt)
        return read_records(path)


ROUND_TRIP = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("fmt", ["jsonl", "parquet", "hf", "DataFrame", "Dataset"])
def test_any_records_round_trip(fmt: str) -> None:
    @ROUND_TRIP
    @given(st.lists(_record(), max_size=4))
    def check(records: list[Record]) -> None:
        assert _round_trip(records, fmt) == records

    check()


@ROUND_TRIP
@given(st.lists(_record(csv=True), max_size=4))
def test_any_records_round_trip_through_csv(records: list[Record]) -> None:
    assert _round_trip(records, "csv") == records


def test_json_meta_keeps_what_arrow_structs_would_lose(tmp_path: Path) -> None:
    """The reason meta is a JSON string: keys differ between records, and one key holds values of
    different types in different records."""
    records = [Record(response="a", meta={"k": 1}), Record(response="b", meta={"k": "one", "other": None}),
               Record(response="c", meta={"k": [1.5, {"deep": True}]})]
    write_records(records, tmp_path / "m", format="hf")
    assert read_records(tmp_path / "m") == records
