"""Findings from synthetic cell results: signed effects, no data, one seed, FDR, health checks."""

import math

import numpy as np
import pytest

from biasinherit.studies.findings import build_findings, mitigation_checks, summarise_cells

RATIOS = [0.0, 0.5, 1.0]


def _result(seed, bias_type, ratio, mitigation, metrics):
    rows, reps = [], {}
    for (task, metric, kind, direction), (value, replicates) in metrics.items():
        rows.append({"task": task, "metric": metric, "kind": kind, "direction": direction, "signed": True,
                     "value": None if math.isnan(value) else value})
        reps[f"{task}|{metric}"] = replicates
    return {"cell": {"seed": seed, "bias_type": bias_type, "ratio": ratio, "mitigation": mitigation},
            "rows": rows, "replicates": reps}


def _study(seeds=(0, 1, 2), *, broken=False):
    """Metric 'down' falls with the ratio (its stereotype direction is -1: lower is more
    stereotyped); 'flat' is noise; the mask mitigation brings 'down' back and breaks 'story'."""
    rng = np.random.default_rng(1)
    out = []
    for s in seeds:
        def cell(bt, r, m):
            shift = -0.4 * r if m == "none" else -0.05 * r
            down = 0.5 + shift + rng.normal(0, 0.01)
            flat = 0.5 + rng.normal(0, 0.05)
            valid = 0.9 if not (broken and m == "mask") else 0.2
            gap = math.nan if (broken and m == "mask") else 0.1 + rng.normal(0, 0.01)
            return _result(s, bt, r, m, {
                ("story", "female_share", "bias", -1): (down, list(down + rng.normal(0, 0.01, 30))),
                ("stereo_pairs", "likelihood_gap", "bias", 1): (flat, list(flat + rng.normal(0, 0.01, 30))),
                ("story", "unparsed_share", "health", None): (1 - valid, [1 - valid] * 30),
                ("story", "stereotype_consistency", "bias", 1): (gap, [gap] * 30),
            })
        out.append(cell("baseline", 0.0, "none"))
        for r in (0.5, 1.0):
            out.append(cell("gender.representation", r, "none"))
        out.append(cell("gender.representation", 1.0, "mask"))
    return out


def _find(rows, comparison, metric):
    return next(r for r in rows if r["comparison"] == comparison and r["metric"] == metric)


def test_signed_effect_discovery_and_not_detected():
    rows = build_findings(_study(), bias_types=["gender.representation"], ratios=RATIOS, mitigations=["mask"],
                          mitigation_ratios=[1.0])
    down = _find(rows, "ratio", "female_share")
    # the value fell by ~0.4 and lower is toward the stereotype: a positive signed effect
    assert down["status"] == "tested" and down["discovery"] and 0.3 < down["effect"] < 0.5
    assert down["ci_low"] <= down["effect"] <= down["ci_high"] and down["q_value"] <= 0.05
    flat = _find(rows, "ratio", "likelihood_gap")
    assert flat["status"] == "tested" and not flat["discovery"]
    mask = _find(rows, "mitigation:mask", "female_share")
    # the mitigation raised the value back: away from the stereotype
    assert mask["discovery"] and mask["effect"] < 0
    assert not any(r["metric"] == "unparsed_share" for r in rows)  # health is never tested as bias


def test_missing_data_is_no_data_never_no_effect():
    rows = build_findings(_study(broken=True), bias_types=["gender.representation"], ratios=RATIOS,
                          mitigations=["mask"], mitigation_ratios=[1.0])
    gap = _find(rows, "mitigation:mask", "stereotype_consistency")
    assert gap["status"] == "no data" and not gap["discovery"] and math.isnan(gap["p_value"])
    checks = mitigation_checks(_study(broken=True), bias_types=["gender.representation"], mitigations=["mask"],
                               mitigation_ratios=[1.0])
    story = next(c for c in checks if c["task"] == "story")
    assert story["broken"] and any("unparsed_share" in r for r in story["reasons"])
    assert any("stereotype_consistency" in r for r in story["reasons"])


def test_one_seed_is_not_a_test():
    rows = build_findings(_study(seeds=(0,)), bias_types=["gender.representation"], ratios=RATIOS,
                          mitigations=["mask"], mitigation_ratios=[1.0])
    assert {r["status"] for r in rows} == {"one seed"}
    assert not any(r["discovery"] for r in rows)
    import pandas as pd

    from biasinherit.reporting.study_report import findings_sentences

    sentences = findings_sentences(pd.DataFrame(rows), [], "")
    assert len(sentences) == 1 and sentences[0].startswith("No claims") and "two seeds" in sentences[0]


def test_report_says_not_detected_is_not_no_effect_only_when_a_type_is_undetected():
    import pandas as pd

    from biasinherit.reporting.study_report import findings_sentences

    rows = pd.DataFrame(build_findings(_study(), bias_types=["gender.representation"], ratios=RATIOS,
                                       mitigations=["mask"], mitigation_ratios=[1.0]))
    assert not any("Not detected" in s for s in findings_sentences(rows, [], ""))
    quiet = rows.assign(discovery=False)
    caveat = [s for s in findings_sentences(quiet, [], "") if "Not detected" in s]
    assert len(caveat) == 1 and "3 training seeds" in caveat[0]


def test_summary_pairs_inheritance_by_seed_and_contains_estimates():
    summary = summarise_cells(_study(), bias_types=["gender.representation"])
    row = next(r for r in summary if r["ratio"] == 1.0 and r["mitigation"] == "none" and r["metric"] == "female_share")
    assert row["n_seeds"] == 3 and -0.5 < row["inheritance"] < -0.3
    for r in summary:
        if not math.isnan(r["value"]):
            assert r["ci_low"] <= r["value"] <= r["ci_high"]


def test_mitigation_checks_compare_with_the_same_bias_types_and_seeds():
    """A mitigation trained on one bias type is judged against that type's unmitigated cells,
    not against every type's (another type's poor health must not hide the drop)."""
    out = []
    for s in (0, 1, 2):
        for bt, valid_none in (("gender.representation", 0.9), ("gender.association", 0.2)):
            out.append(_result(s, bt, 1.0, "none", {("story", "unparsed_share", "health", None): (1 - valid_none, [])}))
        out.append(_result(s, "gender.representation", 1.0, "mask",
                           {("story", "unparsed_share", "health", None): (0.5, [])}))
    checks = mitigation_checks(out, bias_types=["gender.representation", "gender.association"],
                               mitigations=["mask"], mitigation_ratios=[1.0])
    story = next(c for c in checks if c["task"] == "story")
    assert story["broken"] and story["unparsed_share"] == pytest.approx((0.1, 0.5))


def test_report_says_when_a_study_trains_no_mitigation():
    import pandas as pd

    from biasinherit.reporting.study_report import _mitigation_table

    with_mask = pd.DataFrame(build_findings(_study(), bias_types=["gender.representation"], ratios=RATIOS,
                                            mitigations=["mask"], mitigation_ratios=[1.0]))
    assert "mask" in _mitigation_table(with_mask)
    results = [r for r in _study() if r["cell"]["mitigation"] == "none"]
    without = pd.DataFrame(build_findings(results, bias_types=["gender.representation"], ratios=RATIOS,
                                          mitigations=[], mitigation_ratios=[1.0]))
    assert "trains no mitigation" in _mitigation_table(without)
