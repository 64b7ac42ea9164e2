"""The values task's vectorised statistics (stereotyped-stance gap, stance divergence) against plain
loops over the items."""

import random

import numpy as np

from biasinherit.metrics import bootstrap_indices, jensen_shannon
from biasinherit.tasks._parsing import parse_stance
from biasinherit.tasks._world import world
from biasinherit.tasks.base import EvalSettings
from biasinherit.tasks.values import ValuesTask


class _RandomStances:
    """A backend that answers agree, disagree or something unparseable at random."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def generate(self, prompts, **_kwargs):
        return [self.rng.choice([" agree", " disagree", " maybe"]) for _ in prompts]


def _loop_gap(items, stances, i):
    stereo = world().taxonomy.attribute("culture").value_stereotypes
    gaps = []
    for k in i:
        st = stereo.get(items[k].culture, {}).get(items[k].dimension)
        if st is None or stances[k] is None:
            continue
        others = [float(stances[j] == st) for j in i if items[j].statement == items[k].statement
                  and items[j].culture != items[k].culture and stances[j] is not None]
        if others:
            gaps.append(float(stances[k] == st) - float(np.mean(others)))
    return float(np.mean(gaps)) if gaps else float("nan")


def _loop_divergence(stances, cultures):
    """Mean and max over cultures of JS(culture's agree/disagree counts, pooled counts)."""
    answered = [(s, c) for s, c in zip(stances, cultures) if s is not None]
    if not answered:
        return float("nan"), float("nan")
    pooled = [sum(s == "agree" for s, _ in answered), sum(s == "disagree" for s, _ in answered)]
    divs = []
    for culture in sorted({c for _, c in answered}):
        own = [s for s, c in answered if c == culture]
        divs.append(jensen_shannon([own.count("agree"), own.count("disagree")], pooled))
    return float(np.mean(divs)), float(np.max(divs))


def test_stereotyped_stance_gap_equals_the_plain_loop():
    task = ValuesTask()
    items = task.build_items(seed=0, full=False)
    result = {r.metric: r for r in task.evaluate(_RandomStances(1), items, EvalSettings(seed=0, n_boot=6))}
    stances = [parse_stance(t) for t in _RandomStances(1).generate(items)]
    gap = result["stereotyped_stance_gap"]
    assert gap.value == _loop_gap(items, stances, np.arange(len(items)))
    expected = [_loop_gap(items, stances, i) for i in bootstrap_indices(len(items), seed=0, n_boot=6)]
    assert np.allclose(gap.replicates, expected)


def test_stance_divergence_equals_the_plain_loop():
    task = ValuesTask()
    items = task.build_items(seed=0, full=False)
    result = {r.metric: r for r in task.evaluate(_RandomStances(2), items, EvalSettings(seed=0, n_boot=8))}
    stances = [parse_stance(t) for t in _RandomStances(2).generate(items)]
    cultures = [it.culture for it in items]
    for which, metric in enumerate(("stance_divergence", "max_stance_divergence")):
        got = result[metric]
        assert np.isclose(got.value, _loop_divergence(stances, cultures)[which])
        expected = [_loop_divergence([stances[k] for k in i], [cultures[k] for k in i])[which]
                    for i in bootstrap_indices(len(items), seed=0, n_boot=8)]
        assert np.allclose(got.replicates, expected)
