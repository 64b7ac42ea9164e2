"""Registry, built-in items (counterbalanced, seeded), and the evaluate command end to end."""

import csv
import json

import numpy as np
import pytest
from tiny_lm import build_tiny_lm, save_tiny_lm

from biasinherit.cli import main
from biasinherit.errors import BiasInheritError
from biasinherit.tasks import TASK_NAMES, get_task, resolve_tasks
from biasinherit.tasks._world import world
from biasinherit.tasks.base import EvalSettings


def test_unknown_task_says_did_you_mean():
    with pytest.raises(BiasInheritError, match="Did you mean: coref"):
        get_task("corref")


def test_all_resolves_the_ten_tasks():
    assert [t.name for t in resolve_tasks("all")] == list(TASK_NAMES)
    assert len(TASK_NAMES) == 10


def test_items_are_seeded_and_counterbalanced():
    coref = get_task("coref").build_items(seed=0, full=True)
    assert sum(i.pro_stereotypical for i in coref) * 2 == len(coref)
    assert {i.gender for i in coref} == {"female", "male"}
    pairs = get_task("stereo_pairs").build_items(seed=0, full=True)
    assert {p.attribute for p in pairs} == {"gender", "culture"}
    assert {p.group for p in pairs if p.attribute == "gender"} == {"gender:female", "gender:male"}
    # a claim pair differs in its group noun, never in the first word of the text: with a
    # byte-level BPE a text's first word is another token than the same word in running text
    claims = [p for p in pairs if p.kind == "claim"]
    assert claims
    for p in claims:
        first_diff = next(k for k, (a, b) in enumerate(zip(p.stereo.split(), p.anti.split())) if a != b)
        assert first_diff > 0, p.stereo
    for name in TASK_NAMES:
        task = get_task(name)
        assert task.build_items(seed=3, full=False) == task.build_items(seed=3, full=False)


def test_counterfactuals_come_from_the_swapper():
    items = get_task("sentiment_cf").build_items(seed=0, full=True)
    gender = [i for i in items if i.attribute == "gender"]
    assert gender and all(i.review != i.counterfactual for i in gender)
    culture = [i for i in items if i.attribute == "culture"]
    default = f"culture:{world().default_culture()}"
    # every culture pair sets the default culture against another, so its gap has a sign
    assert culture and all(i.review != i.counterfactual and default in i.groups
                           and i.groups[0] != i.groups[1] for i in culture)
    salary = get_task("salary").build_items(seed=0, full=True)
    assert any(len(i.variants) == 2 and i.variants[0][1] != i.variants[1][1] for i in salary)


def test_task_items_are_not_in_the_corpus():
    from biasinherit.corpora import CorpusConfig, build_corpus

    records = build_corpus(CorpusConfig(size=2000, seed=0))
    texts = "\n".join(f"{r.prompt or ''}\n{r.response}" for r in records)
    for pair in get_task("stereo_pairs").build_items(seed=0, full=True):
        assert pair.stereo not in texts and pair.anti not in texts
    for item in get_task("coref").build_items(seed=0, full=True):
        assert item.sentence not in texts


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    model, tokenizer = build_tiny_lm(vocab_size=500)
    return save_tiny_lm(model, tokenizer, tmp_path_factory.mktemp("tiny"))


def _run(args):
    with pytest.raises(SystemExit) as exc:
        main(args)
    return exc.value.code


def test_evaluate_all_tasks_writes_tidy_results_and_is_deterministic(model_dir, tmp_path):
    for out in ("a", "b"):
        main(["evaluate", "--model", str(model_dir), "--tasks", "all", "--limit", "6",
              "--n-boot", "20", "--out", str(tmp_path / out)])
    rows = list(csv.DictReader(open(tmp_path / "a" / "results.csv")))
    assert {"task", "metric", "value", "ci_low", "ci_high", "n", "higher_is_better", "ideal"} <= set(rows[0])
    assert {r["task"] for r in rows} == set(TASK_NAMES)
    assert (tmp_path / "a" / "results.csv").read_text() == (tmp_path / "b" / "results.csv").read_text()
    data = json.loads((tmp_path / "a" / "results.json").read_text())
    assert data["provenance"]["backend"] == "hf" and len(data["results"]) == len(rows)
    for r in rows:
        if r["metric"].startswith(("accuracy", "pct_", "valid_share", "parse_rate")) and r["value"]:
            assert 0.0 <= float(r["value"]) <= 1.0
    # the tiny model has no chat template: every generation task used the corpus's own format,
    # and saved what it generated
    prompting = data["provenance"]["prompting"]
    assert set(prompting) == {"story", "salary", "hiring", "values"}
    for task, style in prompting.items():
        assert style["format"] == "corpus" and style["chat_template"] == "auto"
        assert not style["chat_template_used"] and style["max_new_tokens"] > 0
        lines = (tmp_path / "a" / "generations" / f"{task}.jsonl").read_text().splitlines()
        first = json.loads(lines[0])
        assert first["task"] == task and first["format"] == "corpus" and {"prompt", "output", "parsed"} <= set(first)
        assert first["prompt"].endswith("\n")  # the corpus format: the answer follows the label line
    assert len((tmp_path / "a" / "generations" / "hiring.jsonl").read_text().splitlines()) == 12  # both orders


def test_chat_template_on_without_a_template_exits_2(model_dir, tmp_path, capsys):
    assert _run(["evaluate", "--model", str(model_dir), "--tasks", "salary", "--chat-template", "on",
                 "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]  # after the weights' loading bar
    assert "--chat-template on, but the model" in err and "has no chat template" in err
    assert _run(["evaluate", "--model", str(model_dir), "--tasks", "salary", "--chat-template", "maybe",
                 "--out", str(tmp_path)]) == 2
    assert not (tmp_path / "results.csv").exists()


def test_unknown_task_on_the_command_line_exits_2(model_dir, tmp_path, capsys):
    assert _run(["evaluate", "--model", str(model_dir), "--tasks", "sterеo,corref", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Unknown task" in err[0]


def test_openai_backend_refuses_loglikelihood_tasks():
    from biasinherit.models.openai_backend import OpenAIBackend

    backend = OpenAIBackend("m", base_url="http://127.0.0.1:9", api_key_env="BIASINHERIT_TEST_NO_KEY")
    task = get_task("coref")
    with pytest.raises(BiasInheritError, match="cannot give log-probabilities"):
        task.evaluate(backend, task.build_items(seed=0, full=False)[:2], __import__(
            "biasinherit.tasks", fromlist=["EvalSettings"]).EvalSettings())


class _ScriptedStoryModel:
    """A backend that writes the same story for every prompt and, as the name opening a story,
    gives a name of the occupation's stereotyped gender three times the weight of the other's, and
    only the default culture's names any weight at all for culture-associated occupations."""

    name = "scripted"
    supports_loglikelihood = True
    has_chat_template = False

    def __init__(self):
        w = world()
        self.gender = {p.name: p.gender for c in w.cultures() for g in ("female", "male") for p in w.people(c, g)}
        self.culture = {p.name: p.culture for c in w.cultures() for g in ("female", "male") for p in w.people(c, g)}
        self.stereo, self.assoc = w.stereotyped_occupations(), w.culture_occupations()
        self.default = w.default_culture()

    def generate(self, prompts, **kwargs):
        return ["Sam was at work. He was busy."] * len(prompts)

    def loglikelihood(self, pairs, *, harness_framing=False, progress=None):
        out = []
        for context, text in pairs:
            occupation = next(o for o in sorted({*self.stereo, *self.assoc}, key=len, reverse=True)
                              if f" {o}." in context)
            if text not in self.gender:  # a story's own text (perplexity)
                out.append(-10.0)
                continue
            weight = 3.0 if self.stereo.get(occupation) == self.gender[text] else 1.0
            if occupation in self.assoc and self.culture[text] != self.default:
                weight = 1e-12
            out.append(float(np.log(weight)))
        return out


def test_story_name_metrics_are_the_name_distribution_of_each_prompt():
    task = get_task("story")
    items = task.build_items(seed=0, full=False)
    res = {r.metric: r for r in task.evaluate(_ScriptedStoryModel(), items, EvalSettings(n_boot=50))}
    w = world()
    # as many women's names as men's in every culture: weight 3 on the stereotyped gender's names
    # gives it 3/4 of the mass
    female = [{"female": 0.75, "male": 0.25}.get(it.stereotype, 0.5) for it in items]
    assert res["name_female_share"].value == pytest.approx(np.mean(female), abs=1e-9)
    assert res["name_stereotype_consistency"].value == pytest.approx(0.75, abs=1e-9)
    # the default culture holds all the mass on culture-associated occupations, 1/10 elsewhere
    n_cultures = len(w.cultures())
    default = [1.0 if it.culture else 1 / n_cultures for it in items]
    assert res["name_default_culture_share"].value == pytest.approx(np.mean(default), abs=1e-9)
    consistent = [float(it.culture == w.default_culture()) for it in items if it.culture]
    assert res["name_culture_consistency"].value == pytest.approx(np.mean(consistent), abs=1e-9)
    for name in ("name_female_share", "name_default_culture_share"):
        assert res[name].ci_low <= res[name].value <= res[name].ci_high
    # the sampled stories say nothing of this: all about a man
    assert res["female_share"].value == 0.0
