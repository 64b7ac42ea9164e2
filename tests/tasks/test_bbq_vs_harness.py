"""BBQ under ``--protocol lm-eval`` against lm-evaluation-harness's own code, row for row.

The harness's ``bbq/utils.py`` (process_docs, doc_to_choice, doc_to_targets,
doc_to_biased_answer, process_results_multiple_choice and the agg_* functions) is run on the
same rows as our loader and metric code, with the same fixed log-likelihoods, and every choice
list, gold label, biased answer and aggregate must agree. Skipped when lm_eval is not installed
(it is the optional ``bench`` extra); ``test_bbq_quirks.py`` checks the same rules without it.
"""

import importlib.util
import json
import random
from pathlib import Path

import numpy as np
import pytest
from bbq_quirk_rows import CASES

from biasinherit.tasks.base import EvalSettings
from biasinherit.tasks.benchmarks.bbq import BBQBenchmark, _answer_groups, load_bbq

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data (real benchmark files) is absent")


def _harness_utils():
    """lm_eval/tasks/bbq/utils.py loaded on its own (importing lm_eval.tasks builds every task)."""
    spec = importlib.util.find_spec("lm_eval")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "tasks" / "bbq" / "utils.py"
    if not path.is_file():
        return None
    mod_spec = importlib.util.spec_from_file_location("_harness_bbq_utils", path)
    module = importlib.util.module_from_spec(mod_spec)
    mod_spec.loader.exec_module(module)
    return module


H = _harness_utils()
pytestmark = [
    pytest.mark.skipif(H is None, reason="lm-evaluation-harness (lm_eval, the 'bench' extra) is not installed; "
                                         "its BBQ code is what this file compares against"),
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),  # the harness's mean of an empty slice (NaN)
]

CATEGORIES = ("Age", "Disability_status", "Gender_identity", "Nationality", "Physical_appearance",
              "Race_ethnicity", "Race_x_gender", "Race_x_SES", "Religion", "SES", "Sexual_orientation")
METRICS = {"acc": "mean", "accuracy_amb": "agg_accuracy_amb", "accuracy_disamb": "agg_accuracy_disamb",
           "amb_bias_score": "agg_amb_bias_scores", "disamb_bias_score": "agg_disamb_bias_scores"}


def _ll(context: str, continuation: str) -> float:
    """A fixed log-likelihood per (context, continuation); few levels, so ties happen (argmax: first)."""
    return random.Random(f"{context}\x00{continuation}").choice((-4.0, -3.0, -2.5, -2.5, -1.0))


class _TableBackend:
    name = "table"
    supports_loglikelihood = True

    def loglikelihood(self, pairs, *, harness_framing=False, progress=None):
        assert harness_framing, "the lm-eval protocol must ask for the harness's framing"
        return [_ll(c, x) for c, x in pairs]


def _harness_docs(rows):
    import datasets

    return list(H.process_docs(datasets.Dataset.from_list(rows)))


def _harness_metrics(docs):
    """Per-doc results as the harness's multiple_choice request gives them, then its aggregations."""
    per_doc = []
    for doc in docs:
        context = "{}\n\nQ: {}\nA:".format(doc["context"], doc["question"])  # the YAML's doc_to_text
        lls = [(_ll(context, " " + c), False) for c in H.doc_to_choice(doc)]  # target_delimiter " "
        per_doc.append(H.process_results_multiple_choice(doc, lls))
    out = {}
    for name, agg in METRICS.items():
        values = [r[name] for r in per_doc]
        out[name] = float(np.mean(values)) if agg == "mean" else float(getattr(H, agg)(values))
    for cat in CATEGORIES:
        for kind in ("amb", "disamb"):
            name = f"{kind}_bias_score_{cat}"
            out[name] = float(getattr(H, f"agg_{kind}_bias_scores")([r[name] for r in per_doc]))
    return out


def _ours(items):
    res = BBQBenchmark("lm-eval").evaluate(_TableBackend(), items, EvalSettings(n_boot=0))
    return {r.metric: r.value for r in res}


def _compare(rows, path):
    items = load_bbq(path, "lm-eval")
    docs = _harness_docs(rows)
    assert len(items) == len(docs)
    for line, (item, doc) in enumerate(zip(items, docs), start=1):
        where = f"{path.name}:{line}"
        choices = H.doc_to_choice(doc)
        assert list(item.options) == choices, where
        # doc_to_targets lists 2..12 for an unknown label: index 12 is past the 12 choices, never predicted
        assert item.label == tuple(t for t in H.doc_to_targets(doc) if t < len(choices)), where
        assert item.label[0] == H.doc_to_target(doc), where
        assert list(item.biased) == H.doc_to_biased_answer(doc), where
        assert list(item.unknown) == [i for i, c in enumerate(choices) if c in H.UNKNOWN_RESPONSES], where
        assert item.disambiguated == (doc["context_condition"] == "disambig"), where
    theirs = _harness_metrics(docs)
    ours = _ours(items)
    for name in METRICS:
        assert ours[name] == pytest.approx(theirs[name], nan_ok=True), name
    # the harness's per-category scores equal ours on that category's items alone
    for cat in CATEGORIES:
        sub = [it for it in items if it.category == cat]
        if not sub:
            assert np.isnan(theirs[f"amb_bias_score_{cat}"]) and np.isnan(theirs[f"disamb_bias_score_{cat}"])
            continue
        mine = _ours(sub)
        for kind in ("amb", "disamb"):
            assert mine[f"{kind}_bias_score"] == pytest.approx(theirs[f"{kind}_bias_score_{cat}"], nan_ok=True), \
                f"{kind}_bias_score_{cat}"


def test_answer_groups_equal_the_harness_string_rules():
    rng = random.Random(0)
    parts = ("M-", "F-", "lowSES-", "highSES-", "lowSES", "highSES", "nonObese", "nonDisabled", "nonTrans", "woman",
             "man", "girl", "boy", "Woman", "_", "-", " ", "Black", "Latino", "Coleman", "German", "trans", "old")
    for _ in range(3000):
        info = ["".join(rng.choice(parts) for _ in range(rng.randint(1, 6))) for _ in range(rng.randint(1, 3))]
        assert _answer_groups(info) == H._process_groups_in_answers("_".join(info)), info


def test_quirk_rows_agree_with_the_harness(tmp_path):
    rows = [c.row for c in CASES]
    f = tmp_path / "quirks.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    _compare(rows, f)


@pytest.mark.parametrize("cat", sorted({c.row["category"] for c in CASES}))
def test_each_category_alone_agrees_with_the_harness(tmp_path, cat):
    rows = [c.row for c in CASES if c.row["category"] == cat]
    f = tmp_path / f"{cat}.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    _compare(rows, f)


@pytest.mark.integration
@needs_shared
def test_real_age_file_agrees_with_the_harness():
    path = SHARED / "bbq" / "Age.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    _compare(rows, path)
