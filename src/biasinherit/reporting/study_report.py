"""``report.html`` of a study, rebuilt from its tables (results, findings, summary, checks), the
audits and the manifest.

Sections: findings written from the discoveries only (effects with intervals, signed toward the
stereotype), with what was tested and not detected and what had no data; the table of ratio
tests; inheritance curves; the mitigation tests, plots and health checks; the misalignment
measures and their (exploratory) correlation with inheritance; the config, versions and stage
times. Every statement about bias rising or falling comes from ``findings.csv``: a test with an
interval over seeds and items and a Benjamini-Hochberg q-value.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from biasinherit.records import atomic_write
from biasinherit.reporting._page import fmt, page, table_html
from biasinherit.reporting.plots import curve_plot, mitigation_plot

if TYPE_CHECKING:
    from biasinherit.studies.study import Study

MAX_MITIGATION_PLOTS = 12
Q_LEVEL = 0.05


# ---- wording ----------------------------------------------------------------------------------


def _toward(row: Any) -> str:
    if not row["signed"]:
        return "more disparity between groups" if row["effect"] > 0 else "less disparity between groups"
    return "toward the stereotype" if row["effect"] > 0 else "away from the stereotype"


def _effect(row: Any) -> str:
    return (f"{float(row['effect']):+.3f} [{float(row['ci_low']):+.3f}, {float(row['ci_high']):+.3f}], "
            f"q={float(row['q_value']):.3g}")


def _metric_label(row: Any) -> str:
    return f"{row['task']} {row['metric']}"


NEGATIVE_CONTROL = "plain"  # plain augmentation by the builtin generator: nothing injected


def _type_line(bt: str, sub: Any, *, control: bool) -> str:
    """One line for a bias type: detected (its strongest test) or not, with the count."""
    disc = sub[sub["discovery"]].sort_values("q_value")
    tested = sub[sub["status"] == "tested"]
    if control:
        label = f"{bt} (negative control: nothing injected)"
        if not len(disc):
            return f"{label}: 0 discoveries in {len(tested)} tests."
        parts = [f"{_metric_label(r)} {_toward(r)} ({_effect(r)})" for _, r in disc.iterrows()]
        return (f"{label}: {len(disc)} discoveries in {len(tested)} tests, which the generator did not inject: "
                + "; ".join(parts) + ".")
    if not len(tested):
        return f"{bt}: not tested (no bias metric with data)."
    if not len(disc):
        return f"{bt}: not detected ({len(tested)} tested bias metrics)."
    # toward the stereotype first, then more disparity (an unsigned gap), then the rest
    rank = disc.apply(lambda r: 0 if r["effect"] > 0 and r["signed"] else 1 if r["effect"] > 0 else 2, axis=1)
    best = disc.assign(_rank=rank).sort_values(["_rank", "q_value"], kind="stable").iloc[0]
    more = f"; {len(disc)} of {len(tested)} tested metrics" if len(disc) > 1 else f"; 1 of {len(tested)} tested metrics"
    return f"{bt}: detected: strongest {_metric_label(best)} {_toward(best)} ({_effect(best)}){more}."


def _no_data_line(ratio: Any) -> str | None:
    """The metrics that had no data, grouped by metric with the types they had none for."""
    no_data = ratio[ratio["status"] == "no data"]
    if not len(no_data):
        return None
    groups = []
    for (task, metric), g in no_data.groupby(["task", "metric"], sort=True):
        groups.append(f"{task} {metric} ({', '.join(sorted(set(g['bias_type'])))})")
    return "No data (too few valid outputs in some cell), so not tested: " + "; ".join(groups) + "."


def findings_sentences(findings: Any, checks: list[dict[str, Any]], mask_note: str, *,
                       negative_control: bool = True) -> list[str]:
    """The findings: one line per bias type (detected with its strongest test, or not), the
    negative control's line, then the family's size, the caveats, what had no data (one grouped
    line) and the mitigations. ``negative_control``: ``plain`` was augmented by the builtin
    generator, which injects nothing (with an LLM generator, plain is what the LLM brings by
    itself, and is reported like any type)."""
    out: list[str] = []
    if findings.empty:
        return ["No tests: the study has no bias metric measured at two ratios or under a mitigation."]
    n_tests = int((findings["status"] == "tested").sum())
    n_disc = int(findings["discovery"].sum())
    if n_tests == 0 and (findings["status"] == "one seed").any():
        return ["No claims: every comparison rests on one training seed, so there is no variance between "
                "training runs to test against (a test needs at least two seeds). The tables and curves show "
                "each model's values with intervals over evaluation items only."]
    ratio = findings[findings["comparison"] == "ratio"]
    types = sorted(set(ratio["bias_type"]), key=lambda bt: (bt == NEGATIVE_CONTROL, bt))
    for bt in types:
        control = negative_control and bt == NEGATIVE_CONTROL
        out.append(_type_line(bt, ratio[ratio["bias_type"] == bt], control=control))
    out.append(f"{n_tests} tests (Benjamini-Hochberg over all of them), {n_disc} discoveries at q ≤ {Q_LEVEL}. "
               "Effects are the change from ratio 0 to 1 (ratio tests) or mitigated minus unmitigated "
               "(mitigation tests), with 95% intervals over seeds and items.")
    # a bias type tested without a discovery
    injected = ratio[ratio["bias_type"] != NEGATIVE_CONTROL] if negative_control else ratio
    if any(not g["discovery"].any() and (g["status"] == "tested").any() for _, g in injected.groupby("bias_type")):
        seeds = int(findings.loc[findings["status"] == "tested", "n_seeds"].max())
        out.append(f"'Not detected' is not 'no effect': each test rests on {seeds} training seeds, and an effect "
                   "smaller than the variation between seeds and items at this size goes unseen. More seeds "
                   "(each adds a degree of freedom to every test) or more fine-tuning detect smaller effects.")
    no_data = _no_data_line(ratio)
    if no_data:
        out.append(no_data)
    mit = findings[findings["comparison"].str.startswith("mitigation:")]
    for comparison in sorted(set(mit["comparison"])):
        name = comparison.split(":", 1)[1]
        label = f"{name} ({mask_note})" if name == "mask" and mask_note else name
        sub = mit[mit["comparison"] == comparison]
        disc = sub[sub["discovery"]]
        tested = sub[sub["status"] == "tested"]
        lower = disc[disc["effect"] < 0]
        higher = disc[disc["effect"] > 0]
        text = f"Mitigation {label}: {len(tested)} tests against no mitigation at the same ratio and seed; "
        if not len(disc):
            text += "no change in bias detected."
        else:
            bits = []
            if len(lower):
                bits.append("less stereotyped on " + "; ".join(
                    f"{r['bias_type']} {_metric_label(r)} ({_effect(r)})" for _, r in lower.iterrows()))
            if len(higher):
                bits.append("more on " + "; ".join(
                    f"{r['bias_type']} {_metric_label(r)} ({_effect(r)})" for _, r in higher.iterrows()))
            text += " and ".join(bits) + "."
        out.append(text)
        broken = [c for c in checks if c["mitigation"] == name and c["broken"]]
        if broken:
            out.append(f"Mitigation {name} breaks " + "; ".join(
                f"{c['task']} at ratio {c['ratio']:g} ({', '.join(c['reasons'])})" for c in broken)
                + ": its bias results there rest on too little output.")
    return out


# ---- sections -----------------------------------------------------------------------------------


def _tests_table(findings: Any) -> str:
    """Signed effect of the ratio per task/metric (rows) and bias type (columns)."""
    ratio = findings[findings["comparison"] == "ratio"]
    if ratio.empty:
        return "<p class='note'>No ratio tests.</p>"
    types = sorted(set(ratio["bias_type"]))
    keys = list(dict.fromkeys(zip(ratio["task"], ratio["metric"])))
    lookup = {(r["bias_type"], r["task"], r["metric"]): r for _, r in ratio.iterrows()}
    head = "".join(f"<th>{html.escape(t).replace('.', '.<wbr>')}</th>" for t in types)
    out = ["<table class='tests'><tr><th>task / metric</th>", head, "</tr>"]
    for task, metric in keys:
        out.append(f"<tr><td class='label'>{html.escape(task)}<br><span class='metric'>{html.escape(metric)}"
                   "</span></td>")
        for bt in types:
            r = lookup.get((bt, task, metric))
            if r is None:
                out.append("<td>–</td>")
                continue
            if r["status"] != "tested":
                out.append(f"<td class='na' title='{html.escape(r['status'])}'>{html.escape(r['status'])}</td>")
                continue
            cls = ("up" if r["effect"] > 0 else "down") if r["discovery"] else ""
            mark = "*" if r["discovery"] else ""
            title = (f"95% CI [{float(r['ci_low']):+.3f}, {float(r['ci_high']):+.3f}], p={float(r['p_value']):.3g}, "
                     f"q={float(r['q_value']):.3g}")
            out.append(f"<td class='num {cls}' title='{html.escape(title)}'>{float(r['effect']):+.2f}{mark}</td>")
        out.append("</tr>")
    out.append("</table>")
    return "".join(out)


def _mitigation_table(findings: Any) -> str:
    tests = findings[findings["comparison"].str.startswith("mitigation:")]
    if tests.empty:
        return "<p class='note'>This study trains no mitigation ([mitigation] names none).</p>"
    mit = tests[tests["discovery"]]
    if mit.empty:
        return "<p class='note'>No mitigation changed a bias metric detectably.</p>"
    rows = [[r["comparison"].split(":", 1)[1], r["bias_type"], r["task"], r["metric"], f"{r['ratio']:g}",
             fmt(r["effect"]), f"[{fmt(r['ci_low'])}, {fmt(r['ci_high'])}]", fmt(r["q_value"], 4)]
            for _, r in mit.sort_values(["comparison", "bias_type", "task"]).iterrows()]
    return table_html(["mitigation", "bias type", "task", "metric", "ratio", "effect", "95% CI", "q"], rows,
                      numeric={5, 7})


def _checks_table(checks: list[dict[str, Any]]) -> str:
    if not checks:
        return ""
    rows = []
    for c in checks:
        shown = [f"{k} {fmt(v[0], 2)}→{fmt(v[1], 2)}" for k, v in c.items()
                 if isinstance(v, (list, tuple)) and len(v) == 2 and k not in ("reasons",)]
        rows.append([c["mitigation"], f"{c['ratio']:g}", c["task"], "; ".join(shown),
                     "BROKEN: " + ", ".join(c["reasons"]) if c["broken"] else "ok"])
    return table_html(["mitigation", "ratio", "task", "performance and health (none → mitigated)", "task"], rows)


def _audit_measures(audits: dict[str, dict[str, Any]]) -> tuple[list[str], dict[str, dict[str, float]]]:
    values: dict[str, dict[str, float]] = {}
    names: list[str] = []
    for bt, audit in audits.items():
        for row in audit.get("summary", []):
            if row.get("value") is None:
                continue
            values.setdefault(row["measure"], {})[bt] = float(row["value"])
            if row["measure"] not in names:
                names.append(row["measure"])
    return names, values


def misalignment_correlations(summary: Any, audits: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Spearman rho across bias types between each misalignment measure and the signed
    inheritance (unmitigated, largest ratio, mean over seeds) of each bias metric; q-values by
    Benjamini-Hochberg over all of them (exploratory: a handful of bias types per correlation)."""
    from biasinherit.analysis.correlate import correlate_misalignment
    from biasinherit.studies.inference import bh_qvalues

    names, values = _audit_measures(audits)
    bias = summary[(summary["kind"] == "bias") & (summary["mitigation"] == "none")]
    if bias.empty or not names:
        return []
    top = bias["ratio"].max()
    if top <= 0:
        return []
    cells: dict[str, dict[str, Any]] = {bt: {name: values[name].get(bt) for name in names} for bt in audits}
    targets: list[str] = []
    for _, r in bias[bias["ratio"] == top].iterrows():
        key = f"{r['task']}|{r['metric']}"
        if r["bias_type"] in cells and not math.isnan(float(r["inheritance"])):
            cells[r["bias_type"]][key] = float(r["inheritance"]) * int(r["direction"] or 1)
            if key not in targets:
                targets.append(key)
    if not targets:
        return []
    rows = []
    for c in correlate_misalignment(list(cells.values()), names, targets):
        task, metric = c.inheritance.split("|")
        rows.append({"measure": c.measure, "task": task, "metric": metric,
                     "rho": math.nan if c.rho is None else c.rho,
                     "p": math.nan if c.p_value is None else c.p_value, "n": c.n})
    for row, q in zip(rows, bh_qvalues([r["p"] for r in rows])):
        row["q"] = q
    return rows


def _stage_table(manifest: dict[str, Any]) -> str:
    stages = manifest.get("stages", {})
    workers = manifest.get("config", {}).get("executor", {}).get("workers")
    rows = []
    for k, v in sorted(stages.items()):
        note = "summed over the cells, which ran in parallel" if k in ("train", "evaluate") else "wall time"
        rows.append([k, f"{v:.1f}", note])
    seconds = manifest.get("seconds_last_run") or manifest.get("seconds")
    head = (f"<p class='note'>Wall time of the last run: {fmt(seconds, 0)} s. Train and evaluate are "
            f"summed over cells{'' if workers is None else f' ({workers} at a time)'}, so they exceed it.</p>")
    return head + table_html(["stage", "seconds", ""], rows, numeric={1})


# ---- the page -----------------------------------------------------------------------------------


def _mask_note(config: dict[str, Any]) -> str:
    if "mask" not in config.get("mitigation", {}).get("names", []):
        return ""
    source = config.get("model", {}).get("mask_source", "lexicon")
    return ("oracle: the generator's annotated spans" if source == "annotations"
            else "lexicon spans, what a user with real data has")


def render_study_report(frame: Any, findings: Any, summary: Any, checks: list[dict[str, Any]],
                        manifest: dict[str, Any], audits: dict[str, dict[str, Any]]) -> str:
    config = manifest.get("config", {})
    mitigation_ratios = list(config.get("mitigation", {}).get("ratios", []))
    seeds = config.get("seeds", [])
    parts: list[str] = []
    parts.append(f"<p class='note'>Study <b>{html.escape(str(config.get('name', 'study')))}</b>, config hash "
                 f"{html.escape(str(manifest.get('config_hash')))}: {len(manifest.get('cells', {}))} cells, "
                 f"{len(seeds)} training seed(s), {len(frame)} result rows. Every bias metric is signed so that "
                 "a positive effect is toward the stereotype (for a disparity magnitude, more disparity).</p>")

    parts.append("<h2>Findings</h2><ul class='findings'>")
    control = config.get("generator", {}).get("name", "builtin") == "builtin"
    parts += [f"<li>{html.escape(s)}</li>" for s in findings_sentences(findings, checks, _mask_note(config),
                                                                      negative_control=control)]
    correlations = misalignment_correlations(summary, audits)
    survived = [c for c in correlations if not math.isnan(c["q"]) and c["q"] <= Q_LEVEL]
    for c in survived:
        parts.append(f"<li>Misalignment: {html.escape(c['measure'])} correlates with inheritance on "
                     f"{html.escape(c['task'])} {html.escape(c['metric'])} across bias types (ρ={c['rho']:.2f}, "
                     f"q={c['q']:.3g}, n={c['n']}).</li>")
    if correlations and not survived:
        parts.append(f"<li>Misalignment and inheritance: none of the {len(correlations)} correlations survives "
                     "the false-discovery control (exploratory; each rests on a handful of bias types).</li>")
    parts.append("</ul>")

    parts.append("<h2>Does bias rise with the ratio?</h2><p class='note'>Signed effect of the ratio (the "
                 "change from ratio 0 to 1, slope with one intercept per seed). * and colour: a discovery "
                 "(red: toward the stereotype or more disparity; green: away). Hover for the interval and "
                 "q-value; all tests are in findings.csv.</p>")
    parts.append(_tests_table(findings))

    parts.append("<h2>Inheritance curves</h2><div class='plots'>")
    for task, metric in dict.fromkeys(zip(summary[summary["kind"] == "bias"]["task"],
                                          summary[summary["kind"] == "bias"]["metric"])):
        fig = curve_plot(summary, task, metric)
        if fig:
            parts.append(fig)
    parts.append("</div>")

    if mitigation_ratios and not findings.empty:
        parts.append("<h2>Mitigations</h2>")
        note = _mask_note(config)
        if note:
            parts.append(f"<p class='note'>The mask mitigation uses {html.escape(note)}.</p>")
        parts.append(_mitigation_table(findings))
        ratio = findings[(findings["comparison"] == "ratio") & findings["discovery"]]
        shown = list(dict.fromkeys(zip(ratio["task"], ratio["metric"])))[:MAX_MITIGATION_PLOTS]
        parts.append("<div class='plots'>")
        for r in mitigation_ratios:
            for task, metric in shown:
                fig = mitigation_plot(summary, task, metric, float(r))
                if fig:
                    parts.append(fig)
        parts.append("</div><h3>Performance and task health</h3>")
        parts.append(_checks_table(checks))

    parts.append("<h2>Misalignment and its correlation with inheritance</h2>")
    names, values = _audit_measures(audits)
    if names:
        parts.append(table_html(["measure", *sorted(audits)],
                                [[n, *(fmt(values[n].get(bt)) for bt in sorted(audits))] for n in names[:40]],
                                numeric=set(range(1, len(audits) + 1)), css_class="fixed"))
        corr = sorted([c for c in correlations if not math.isnan(c["rho"])], key=lambda c: -abs(c["rho"]))[:20]
        if corr:
            parts.append("<p class='note'>Exploratory: the strongest Spearman correlations across bias types "
                         "between a misalignment measure and signed inheritance at the largest ratio, with "
                         "Benjamini-Hochberg q over all of them.</p>")
            parts.append(table_html(["measure", "task", "metric", "ρ", "p", "q", "n"],
                                    [[c["measure"], c["task"], c["metric"], fmt(c["rho"], 2), fmt(c["p"], 3),
                                      fmt(c["q"], 3), c["n"]] for c in corr], numeric={3, 4, 5, 6}, css_class="fixed"))
    else:
        parts.append("<p class='note'>No audits were found for this run.</p>")

    parts.append("<h2>Run</h2>")
    parts.append(_stage_table(manifest))
    parts.append("<h3>Versions</h3>" + table_html(["package", "version"], sorted(manifest.get("versions", {}).items())))
    parts.append(f"<h3>Config</h3><pre>{html.escape(json.dumps(config, indent=2))}</pre>")
    return page(f"biasinherit study report: {config.get('name', 'study')}", "\n".join(parts))


def write_report(study: Study | str | Path) -> Path:
    """Render ``report.html`` into the study's run folder from its tables, audits and manifest
    (a :class:`~biasinherit.studies.study.Study`, or a run folder, which is loaded first)."""
    from biasinherit.studies.study import Study, load_study

    if not isinstance(study, Study):
        study = load_study(study)
    out = study.run_dir / "report.html"
    with atomic_write(out) as fh:
        fh.write(render_study_report(study.results, study.findings, study.summary, study.checks_records,
                                     study.manifest, study.audits))
    return out
