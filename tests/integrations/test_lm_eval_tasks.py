"""The lm-eval task folder: the real ``lm_eval`` CLI on it gives what ``biasinherit evaluate`` gives.

Two models, each run by both sides on the same items: a tiny GPT-2 trained here by ``biasinherit
train`` with the token mitigation (so a BOS token and the ``<|orig|>`` prefix frame every
request), and the real SmolLM2-135M-Instruct (its BOS and, for the generation tasks, its chat
template). Per item, every request's log-likelihood agrees within 1e-4 and the chosen option is
the same; every generation is the same text; every metric value agrees within 1e-4.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from biasinherit.errors import BiasInheritError
from biasinherit.integrations._task_requests import ReplayBackend, decode_item, encode_item
from biasinherit.integrations.lm_eval_tasks import MANIFEST, NOT_AN_EXPORT, write_lm_eval_tasks
from biasinherit.tasks.base import EvalSettings
from biasinherit.tasks.registry import get_task

pytest.importorskip("lm_eval")

LM_EVAL = Path(sys.executable).with_name("lm_eval")
LOGLIKELIHOOD = ["stereo_pairs", "coref", "bias_qa", "toxicity_detection", "sentiment_cf", "general_knowledge"]
GENERATION = ["salary", "hiring", "values"]
TOLERANCE = 1e-4


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> None:
    import torch

    torch.set_num_threads(1)  # our side's scoring in this process, beside the two subprocesses


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """All the tasks lm-eval can carry, the quick items of seed 0 (the harness's --limit cuts)."""
    return write_lm_eval_tasks(tmp_path_factory.mktemp("lm_eval") / "tasks")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from toy_mix import toy_mix

    from biasinherit.records import write_jsonl

    root = tmp_path_factory.mktemp("tiny")
    write_jsonl(toy_mix(2), root / "mix.jsonl")
    proc = subprocess.run([sys.executable, "-m", "biasinherit", "train", "--model", "tiny-xs", "--data",
                           str(root / "mix.jsonl"), "--out", str(root / "model"), "--seed", "0", "--epochs", "3",
                           "--mitigation", "token", "--tag-original", "--threads", "1"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((root / "model" / "biasinherit_model.json").read_text())["eval_prefix"] == "<|orig|>"
    return root / "model"


# ---- the folder -------------------------------------------------------------------------------


def test_folder_holds_a_group_the_items_and_says_what_is_left_out(tmp_path: Path) -> None:
    out = write_lm_eval_tasks(tmp_path / "t", limit=4, seed=3)
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["tasks"] == [*LOGLIKELIHOOD, *GENERATION] and manifest["seed"] == 3
    assert set(manifest["left_out"]) == {"story"} and "samples" in manifest["left_out"]["story"]
    group = (out / "biasinherit.yaml").read_text()
    assert "group: biasinherit" in group and all(f"  - biasinherit_{t}" in group for t in manifest["tasks"])
    readme = (out / "README.md").read_text()
    assert "--include_path" in readme and "dtype=float32" in readme and "`story`" in readme
    assert "biasinherit evaluate --model MODEL" in readme and "--seed 3 --limit 4" in readme
    for name in manifest["tasks"]:
        rows = [json.loads(line) for line in (out / f"{name}.jsonl").read_text().splitlines()]
        items = get_task(name).build_items(seed=3, full=False)[:4]
        assert [decode_item(r["item"]) for r in rows] == items  # the items evaluate --seed 3 --limit 4 takes
        yaml = (out / f"{name}.yaml").read_text()
        assert f"task: biasinherit_{name}" in yaml
        assert all(f"utils.{name}__{m.name}" in yaml for m in get_task(name).metrics)
    coref = json.loads((out / "coref.jsonl").read_text().splitlines()[0])
    assert coref["requests"][0][0].startswith("Sentence: ") and coref["requests"][0][0].endswith("Answer:\n")
    salary = (out / "salary.yaml").read_text()
    assert '"corpus": {"max_new_tokens": 16, "stop": ["\\n"]}' in salary


def test_an_earlier_export_is_replaced_anything_else_refused(tmp_path: Path) -> None:
    out = write_lm_eval_tasks(tmp_path / "t", tasks=["coref"], limit=2)
    write_lm_eval_tasks(out, tasks="bias_qa,coref", limit=2)
    assert sorted(p.name for p in out.glob("*.jsonl")) == ["bias_qa.jsonl", "coref.jsonl"]
    assert not list(tmp_path.glob(".t.*"))  # no temporary folder left beside it
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(BiasInheritError, match=NOT_AN_EXPORT):
        write_lm_eval_tasks(other)
    assert (other / "notes.txt").read_text() == "mine" and len(list(other.iterdir())) == 1


def test_a_task_lm_eval_cannot_carry_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(BiasInheritError, match="task story cannot be exported to lm-eval: it samples"):
        write_lm_eval_tasks(tmp_path / "t", tasks=["story"])
    with pytest.raises(BiasInheritError, match="limit must be an integer >= 1"):
        write_lm_eval_tasks(tmp_path / "t", limit=0)
    with pytest.raises(BiasInheritError, match="limit names 'story', which is not among the tasks run"):
        write_lm_eval_tasks(tmp_path / "t", tasks=["coref"], limit={"story": 4})
    assert not (tmp_path / "t").exists()


def test_a_per_task_limit_cuts_the_tasks_it_names(tmp_path: Path) -> None:
    # the same items as evaluate --limit coref=2 (bias_qa keeps its quick size)
    out = write_lm_eval_tasks(tmp_path / "t", tasks=["coref", "bias_qa"], limit={"coref": 2})
    manifest = json.loads((out / MANIFEST).read_text())
    quick = len(get_task("bias_qa").build_items(seed=0, full=False))
    assert manifest["limit"] == {"coref": 2} and manifest["items"] == {"coref": 2, "bias_qa": quick} and quick > 2
    readme = (out / "README.md").read_text()
    assert "--seed 0 --limit coref=2" in readme and "the first 2 of coref" in readme


def test_command_writes_the_folder_and_refuses_a_foreign_one(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "biasinherit", "lm-eval-tasks", *args],
                              capture_output=True, text=True, timeout=60)

    proc = run(str(tmp_path / "t"), "--tasks", "coref,values", "--limit", "2", "--seed", "1")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(tmp_path / "t")
    assert json.loads((tmp_path / "t" / MANIFEST).read_text())["tasks"] == ["coref", "values"]
    proc = run(str(tmp_path / "t"), "--tasks", "coref,values", "--limit", "values=3")
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "t" / MANIFEST).read_text())["items"]["values"] == 3
    proc = run(str(tmp_path / "t"), "--tasks", "coref", "--limit", "coref=x")
    assert proc.returncode == 2 and "'coref=x' is not TASK=N" in proc.stderr
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "a.txt").write_text("")
    proc = run(str(tmp_path / "x"))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"error: {tmp_path / 'x'} field 'DIR': {NOT_AN_EXPORT}"]


def test_items_read_back_and_replay_refuses_other_requests() -> None:
    task = get_task("coref")
    items = task.build_items(seed=0, full=False)[:2]
    assert [decode_item(encode_item(it)) for it in items] == items
    backend = ReplayBackend("coref", pairs=[("a", "b")], loglikelihoods=[0.0])
    with pytest.raises(BiasInheritError, match="task coref: the harness answered other requests"):
        task.evaluate(backend, items, EvalSettings(n_boot=0))


# ---- framing for the model a run names ----------------------------------------------------------


def _load(export: Path, task: str, **metadata: Any) -> list[dict[str, Any]]:
    from biasinherit.integrations._lm_eval_runtime import load_docs

    styles = None
    if task in GENERATION:
        line = next(ln for ln in (export / f"{task}.yaml").read_text().splitlines() if "biasinherit_styles" in ln)
        styles = json.loads(line.split(": ", 1)[1])
    return list(load_docs(export, biasinherit_task=task, biasinherit_items=f"{task}.jsonl",
                          biasinherit_styles=styles, **metadata)["test"])


def test_requests_are_framed_for_the_trained_model(export: Path, tiny_model: Path) -> None:
    from biasinherit.integrations._lm_eval_runtime import NO_MODEL

    stereo = _load(export, "stereo_pairs", pretrained=str(tiny_model))[0]
    # an empty context gets the prefix the model learned, after its BOS token
    assert stereo["framed_requests"][0]["context"] == "<|bos|><|orig|>"
    hiring = _load(export, "hiring", pretrained=str(tiny_model))[0]
    assert hiring["format"] == "corpus" and hiring["max_gen_toks"] == 8 and hiring["until"] == ["\n"]
    assert hiring["framed_prompts"][0] == "<|bos|><|orig|>" + hiring["prompts"][0]
    with pytest.raises(BiasInheritError, match="has no chat template"):
        _load(export, "hiring", pretrained=str(tiny_model), chat_template="on")
    with pytest.raises(BiasInheritError, match=NO_MODEL.split(":")[0]):
        _load(export, "coref")


def test_a_setting_that_would_change_the_tokens_is_refused(export: Path, tmp_path: Path) -> None:
    """A tokenizer that adds its BOS itself (as Llama's do), with a chat template that does not:
    the harness would add a BOS that biasinherit evaluate does not, unless add_bos_token=False."""
    from tiny_lm import EOS, build_tiny_lm
    from tokenizers.processors import TemplateProcessing

    model, tokenizer = build_tiny_lm()
    tokenizer._tokenizer.post_processor = TemplateProcessing(single=f"{EOS} $A", special_tokens=[(EOS, 0)])
    tokenizer.chat_template = "{% for m in messages %}User: {{ m['content'] }}\n{% endfor %}Assistant:"
    model.save_pretrained(tmp_path / "m")
    tokenizer.save_pretrained(tmp_path / "m")
    with pytest.raises(BiasInheritError, match="set add_bos_token=False"):
        _load(export, "values", pretrained=str(tmp_path / "m"))
    docs = _load(export, "values", pretrained=str(tmp_path / "m"), add_bos_token="False")
    assert docs[0]["framed_prompts"][0].startswith("User: ") and docs[0]["format"] == "chat"
    with pytest.raises(BiasInheritError, match="adds its BOS token itself"):
        _load(export, "values", pretrained=str(tmp_path / "m"), chat_template="off")
    # log-likelihood contexts start with the BOS text, which the harness encodes as it is
    assert _load(export, "coref", pretrained=str(tmp_path / "m"))[0]["text"].startswith(EOS + "Sentence: ")


# ---- the real lm_eval CLI against biasinherit evaluate --------------------------------------------


def _start_lm_eval(export: Path, model: Path, tasks: list[str], limit: int, out: Path) -> subprocess.Popen[str]:
    # one thread whose idle time sleeps (as the biasinherit CLI sets it): on a machine whose two
    # cores other processes share, spinning OpenMP threads made the harness's scoring 8x slower
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE", "TOKENIZERS_PARALLELISM": "false"}
    return subprocess.Popen(
        [str(LM_EVAL), "--model", "hf", "--model_args", f"pretrained={model},dtype=float32",
         "--include_path", str(export), "--tasks", ",".join(f"biasinherit_{t}" for t in tasks),
         "--limit", str(limit), "--batch_size", "8", "--log_samples", "--output_path", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)


def _evaluate(model: Path, tasks: list[str], limit: int, out: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "biasinherit", "evaluate", "--model", str(model), "--tasks",
                           ",".join(tasks), "--limit", str(limit), "--n-boot", "0", "--threads", "1",
                           "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= TOLERANCE


def _choices(pairs: list[list[str]], lls: list[float]) -> list[int]:
    """The option chosen among each run of requests that share a context (a question's options;
    a sentiment pair is two such runs; a minimal pair's two sentences share the empty context)."""
    out, start = [], 0
    for k in range(1, len(pairs) + 1):
        if k == len(pairs) or pairs[k][0] != pairs[start][0]:
            run = lls[start:k]
            out.append(max(range(len(run)), key=run.__getitem__))
            start = k
    return out


def _check_agreement(export: Path, model: Path, tasks: list[str], limit: int, tmp_path: Path) -> dict[str, int]:
    from biasinherit.models.backend import open_backend

    harness = _start_lm_eval(export, model, tasks, limit, tmp_path / "lm_eval")
    try:
        _evaluate(model, tasks, limit, tmp_path / "ours")
        log, _ = harness.communicate(timeout=600)
    finally:
        harness.kill()
    assert harness.returncode == 0, log[-4000:]
    (run,) = [p for p in (tmp_path / "lm_eval").iterdir() if p.is_dir()]
    theirs = json.loads(next(run.glob("results_*.json")).read_text())["results"]
    ours = json.loads((tmp_path / "ours" / "results.json").read_text())["results"]
    counts = {"metrics": 0, "finite": 0, "requests": 0, "choices": 0, "generations": 0}
    for row in ours:
        value = float("nan") if row["value"] is None else float(row["value"])
        other = float(theirs[f"biasinherit_{row['task']}"][f"{row['metric']},none"])
        assert _same(value, other), (row["task"], row["metric"], value, other)
        counts["metrics"] += 1
        counts["finite"] += not math.isnan(value)
    assert counts["metrics"] == sum(len(get_task(t).metrics) for t in tasks)
    backend = open_backend(str(model))
    for task in tasks:
        samples = sorted((json.loads(line) for line in next(run.glob(f"samples_biasinherit_{task}_*.jsonl"))
                          .read_text().splitlines()), key=lambda s: s["doc_id"])
        rows = [json.loads(line) for line in (export / f"{task}.jsonl").read_text().splitlines()][:limit]
        assert len(samples) == len(rows) == limit
        if task in GENERATION:
            generations = [json.loads(line) for line in (tmp_path / "ours" / "generations" / f"{task}.jsonl")
                           .read_text().splitlines()]
            assert [o for s in samples for o in s["filtered_resps"]] == [g["output"] for g in generations]
            counts["generations"] += len(generations)
            continue
        for sample, row in zip(samples, rows):
            lls = [float(r[0]) for r in sample["filtered_resps"]]
            mine = backend.loglikelihood([tuple(p) for p in row["requests"]])
            assert all(_same(a, b) for a, b in zip(lls, mine, strict=True)), (task, row["index"], lls, mine)
            assert _choices(row["requests"], lls) == _choices(row["requests"], mine)
            counts["requests"] += len(lls)
            counts["choices"] += len(_choices(row["requests"], lls))
    return counts


@pytest.mark.slow
def test_tiny_model_lm_eval_agrees_with_evaluate(export: Path, tiny_model: Path, tmp_path: Path) -> None:
    counts = _check_agreement(export, tiny_model, [*LOGLIKELIHOOD, *GENERATION], 3, tmp_path)
    assert counts["requests"] >= 40 and counts["generations"] >= 20 and counts["finite"] >= 15


@pytest.mark.slow
def test_smollm2_lm_eval_agrees_with_evaluate(export: Path, smollm2_dir: Path, tmp_path: Path) -> None:
    # a minimal pair (empty context), questions with two and three options, counterfactual pairs
    # (two contexts an item), and a chat-template generation task; the harness computes the
    # logits of every position over SmolLM2's 49k tokens, so each item costs it seconds here
    counts = _check_agreement(export, smollm2_dir, ["stereo_pairs", "coref", "bias_qa", "sentiment_cf", "values"],
                              2, tmp_path)
    assert counts["requests"] >= 20 and counts["generations"] == 2 and counts["finite"] >= 10


def test_a_symlinked_output_folder_is_written_through(tmp_path):
    from biasinherit.integrations.lm_eval_tasks import write_lm_eval_tasks

    target = tmp_path / "real"
    target.mkdir()
    link = tmp_path / "link"
    link.symlink_to(target)
    write_lm_eval_tasks(link, tasks=["coref"], limit=2)
    assert link.is_symlink() and (target / "biasinherit.yaml").exists()
    assert not (tmp_path / ".link.old").exists()
