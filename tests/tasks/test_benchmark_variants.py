"""The file variants a user plausibly has: WinoBias test splits, Winogender and CrowS-Pairs copies.

Every fixture is written here, in the benchmarks' formats.
"""

import subprocess
import sys

import pytest

from biasinherit.errors import BiasInheritError
from biasinherit.tasks.benchmarks.crows_pairs import load_crows_pairs
from biasinherit.tasks.benchmarks.winobias import load_winobias
from biasinherit.tasks.benchmarks.winogender import load_winogender

PRO = ("1 [The crane operator] thanked the florist because [he] got a discount.\n"
       "2 The crane operator thanked [the florist] because [she] arranged the roses.\n")
ANTI = ("1 [The florist] waved to the crane operator because [he] was leaving.\n"
        "2 The florist called [the crane operator] and asked [her] about the delay.\n")
EXPECTED = {
    ("pro", ("crane operator", "florist"), 0), ("pro", ("crane operator", "florist"), 1),
    ("anti", ("florist", "crane operator"), 0), ("anti", ("florist", "crane operator"), 1),
}


def _winobias(folder, suffix, pro=PRO, anti=ANTI):
    folder.mkdir(exist_ok=True)
    (folder / f"pro_stereotyped_type1.txt.{suffix}").write_text(pro)
    (folder / f"anti_stereotyped_type1.txt.{suffix}").write_text(anti)
    return folder


def _triples(items):
    return {(i.group, i.options, i.answer) for i in items}


def test_winobias_test_split_folder_without_occupation_lists(tmp_path):
    # no {female,male}_occupations.txt: the multi-word occupation is found among the gold mentions
    items = load_winobias(_winobias(tmp_path / "wb", "test"))
    assert _triples(items) == EXPECTED
    assert {i.pronoun for i in items} == {"he", "she", "her"}


def test_winobias_single_test_file(tmp_path):
    folder = _winobias(tmp_path / "wb", "test")
    items = load_winobias(folder / "pro_stereotyped_type1.txt.test")
    assert {(i.group, i.answer) for i in items} == {("pro", 0), ("pro", 1)}
    assert all(i.options == ("crane operator", "florist") for i in items)


def test_winobias_folder_with_dev_and_test_loads_the_test_split(tmp_path):
    folder = _winobias(tmp_path / "wb", "test")
    _winobias(folder, "dev", pro="1 [The crane operator] smiled at the florist because [he] won.\n",
              anti="1 The crane operator smiled at [the florist] because [he] won.\n")
    (folder / "male_occupations.txt").write_text("crane operator\n")
    (folder / "female_occupations.txt").write_text("florist\n")
    items = load_winobias(folder)
    assert len(items) == 4 and _triples(items) == EXPECTED


def test_winobias_folder_mixing_splits_without_test_is_one_line(tmp_path):
    folder = _winobias(tmp_path / "wb", "dev")
    (folder / "pro_stereotyped_type1.txt.train").write_text(PRO)
    with pytest.raises(BiasInheritError, match="splits") as exc:
        load_winobias(folder)
    assert "\n" not in str(exc.value)


def test_winobias_bad_line_names_file_and_line(tmp_path):
    folder = _winobias(tmp_path / "wb", "test", anti=ANTI + "3 The florist left early.\n")
    with pytest.raises(BiasInheritError) as exc:
        load_winobias(folder)
    assert "anti_stereotyped_type1.txt.test:3" in str(exc.value) and "\n" not in str(exc.value)


WINOGENDER = ("sentid\tsentence\n"
              "florist.visitor.0.female.txt\tThe florist greeted the visitor because she had opened early.\n"
              "florist.visitor.1.male.txt\tThe florist greeted the visitor because he had come early.\n"
              "florist.someone.1.neutral.txt\tThe florist greeted someone because they had come early.\n")


def test_winogender_bom_crlf_and_folder(tmp_path):
    f = tmp_path / "all_sentences.tsv"
    f.write_bytes(b"\xef\xbb\xbf" + WINOGENDER.replace("\n", "\r\n").encode())
    items = load_winogender(tmp_path)  # a folder means its all_sentences.tsv
    assert [(i.pronoun, i.options, i.answer, i.group) for i in items] == [
        ("she", ("florist", "visitor"), 0, "female"), ("he", ("florist", "visitor"), 1, "male"),
        ("they", ("florist", "someone"), 1, "neutral")]  # no occupations-stats.tsv: grouped by gender
    (tmp_path / "occupations-stats.tsv").write_text("occupation\tbergsma_pct_female\tbls_pct_female\tbls_year\n"
                                                    "florist\t70\t72.5\t2015\n")
    assert [i.group for i in load_winogender(f)] == ["pro", "anti", "neutral"]


@pytest.mark.parametrize("text,where", [
    ("sentid\tsentence\nflorist.visitor.0.female.txt\n", "all_sentences.tsv:2"),  # the tab and sentence lost
    ("sentid\tsentence\nflorist.visitor.2.female.txt\tThe florist left.\n", "all_sentences.tsv:2"),
    ("sentid\ttext\nflorist.visitor.0.female.txt\tThe florist left.\n", "all_sentences.tsv:1"),
])
def test_winogender_bad_rows_are_one_line(tmp_path, text, where):
    f = tmp_path / "all_sentences.tsv"
    f.write_text(text)
    with pytest.raises(BiasInheritError) as exc:
        load_winogender(f)
    assert where in str(exc.value) and "\n" not in str(exc.value)


def test_winogender_bad_occupation_stats_is_one_line(tmp_path):
    (tmp_path / "all_sentences.tsv").write_text(WINOGENDER)
    (tmp_path / "occupations-stats.tsv").write_text("occupation\tbls_pct_female\nflorist\tmany\n")
    with pytest.raises(BiasInheritError, match="bls_pct_female") as exc:
        load_winogender(tmp_path)
    assert "occupations-stats.tsv:2" in str(exc.value)


CROWS_PLAIN = ("sent_more,sent_less,stereo_antistereo,bias_type\n"
               "The florist wept at the film.,The plumber wept at the film.,stereo,gender\n")
CROWS_FULL = ('\ufeff,sent_more,sent_less,stereo_antistereo,bias_type,annotations,anon_writer,anon_annotators\n'
              '0,The florist wept at the film.,The plumber wept at the film.,stereo,gender,'
              '"[[\'gender\'], [\'gender\']]",a0,"[\'a1\', \'a2\']"\n'
              '1,"Old people, they said, nap.","Young people, they said, nap.",antistereo,age,"[[\'age\']]",a3,[]\n')


@pytest.mark.parametrize("text", [CROWS_PLAIN, CROWS_FULL, CROWS_PLAIN.replace("\n", "\r\n")],
                         ids=["no index column", "index column, extra columns, BOM", "CRLF"])
def test_crows_pairs_csv_variants(tmp_path, text):
    f = tmp_path / "crows.csv"
    f.write_text(text, encoding="utf-8")
    items = load_crows_pairs(f)
    assert items[0].sent_more == "The florist wept at the film." and items[0].direction == "stereo"
    assert items[0].bias_type == "gender"


def test_crows_pairs_not_utf8_is_one_line(tmp_path):
    f = tmp_path / "crows.csv"
    f.write_bytes(CROWS_PLAIN.encode() + "The caf\u00e9 shut.,The bar shut.,stereo,gender\n".encode("latin-1"))
    with pytest.raises(BiasInheritError, match="UTF-8") as exc:
        load_crows_pairs(f)
    assert "crows.csv" in str(exc.value) and "\n" not in str(exc.value)


@pytest.mark.parametrize("name,text,fragment", [
    ("bbq", '{"context": "x"}\n', "b.jsonl:1"),
    ("winobias", "1 The florist left early.\n", "pro_stereotyped_type1.txt.test:1"),
])
def test_cli_bad_benchmark_file_exits_2_with_one_line(tmp_path, name, text, fragment):
    f = tmp_path / ("b.jsonl" if name == "bbq" else "pro_stereotyped_type1.txt.test")
    f.write_text(text)
    proc = subprocess.run([sys.executable, "-m", "biasinherit", "evaluate", "--model", str(tmp_path / "no-model"),
                           "--benchmark", f"{name}={f}", "--protocol", "lm-eval", "--out", str(tmp_path / "out")],
                          capture_output=True, text=True)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in proc.stderr, proc.stderr
