"""``report.html`` of a study, rebuilt from its results table, audits and manifest.

Sections: findings in sentences generated from the numbers; the Spearman correlation of bias with
the ratio per task, metric and bias type; inheritance curves (bias against ratio, one line per
bias type, CI bands); the mitigation comparison (bias and performance side by side); the
misalignment measures per bias type and their Spearman correlation with inheritance; the config,
versions and run time. "Bias" here is a metric's distance from its ideal value, so a rising
curve always means more bias, whatever the metric's sign convention.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

from biasinherit.records import atomic_write
from biasinherit.report._page import figure_html, fmt, page, png_base64, table_html

MITIGATION_ORDER = ["none", "token", "mask", "loss"]
MEASURES_SHOWN = 8  # misalignment measures listed per bias type


# ---- data helpers -------------------------------------------------------------------------


def _bias_frame(frame: Any) -> Any:
    bias = frame[frame["kind"] == "bias"].copy()
    bias = bias[bias["value"].notna()]
    bias["distance"] = (bias["value"].astype(float) - bias["ideal"].astype(float)).abs()
    return bias


def _metric_order(frame: Any, kind: str) -> dict[str, list[str]]:
    """task -> its metrics of ``kind`` in the order the task reports them."""
    out: dict[str, list[str]] = {}
    for row in frame[frame["kind"] == kind][["task", "metric"]].drop_duplicates().itertuples():
        out.setdefault(row.task, []).append(row.metric)
    return out


def _spearman(x: list[float], y: list[float]) -> tuple[float, float]:
    from scipy.stats import spearmanr

    pairs = [(a, b) for a, b in zip(x, y) if not (math.isnan(a) or math.isnan(b))]
    if len(pairs) < 3 or len({b for _a, b in pairs}) < 2 or len({a for a, _b in pairs}) < 2:
        return math.nan, math.nan
    res = spearmanr([a for a, _ in pairs], [b for _, b in pairs])
    return float(res.statistic), float(res.pvalue)


def ratio_trends(frame: Any) -> list[dict[str, Any]]:
    """For each bias type, task and bias metric: Spearman rho of distance-from-ideal vs ratio
    (no mitigation, mean over seeds), and the distance at the smallest and largest ratio."""
    bias = _bias_frame(frame)
    bias = bias[bias["mitigation"] == "none"]
    grouped = bias.groupby(["bias_type", "task", "metric", "ratio"], sort=False)["distance"].mean().reset_index()
    rows = []
    for (bt, task, metric), g in grouped.groupby(["bias_type", "task", "metric"], sort=False):
        g = g.sort_values("ratio")
        rho, p = _spearman(g["ratio"].tolist(), g["distance"].tolist())
        rows.append({"bias_type": bt, "task": task, "metric": metric, "rho": rho, "p": p,
                     "start": float(g["distance"].iloc[0]), "end": float(g["distance"].iloc[-1]),
                     "ratios": g["ratio"].tolist()})
    return rows


# ---- plots ----------------------------------------------------------------------------------


def _curve_plot(frame: Any, task: str, metric: str) -> str | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = frame[(frame["task"] == task) & (frame["metric"] == metric) & (frame["mitigation"] == "none")]
    data = data[data["value"].notna()]
    if data.empty:
        return None
    fig, ax = plt.subplots(figsize=(4.6, 3.0))
    for bt, g in data.groupby("bias_type", sort=True):
        g = g.groupby("ratio")[["value", "ci_low", "ci_high"]].mean().reset_index().sort_values("ratio")
        line = ax.plot(g["ratio"], g["value"], marker="o", ms=3, lw=1.5, label=bt)[0]
        if g["ci_low"].notna().all() and g["ci_high"].notna().all():
            ax.fill_between(g["ratio"], g["ci_low"].astype(float), g["ci_high"].astype(float),
                            color=line.get_color(), alpha=0.12, lw=0)
    ideal = data["ideal"].dropna()
    if not ideal.empty:
        ax.axhline(float(ideal.iloc[0]), color="#888", ls="--", lw=1, label="ideal")
    ax.set_xlabel("bias ratio (share of augmented data)")
    ax.set_ylabel(metric)
    ax.set_title(f"{task}: {metric}", fontsize=10)
    ax.legend(fontsize=6.5, frameon=False, ncol=2)
    return figure_html(png_base64(fig), f"{task} / {metric} against the bias ratio, one line per bias "
                       "type, bands = bootstrap 95% CI (mean over seeds).")


def _mitigation_plot(frame: Any, task: str, bias_metric: str, perf_metric: str | None,
                     ratio: float) -> str | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    sub = frame[(frame["task"] == task) & (frame["ratio"] == ratio)]
    base = frame[(frame["task"] == task) & (frame["ratio"] == 0.0) & (frame["mitigation"] == "none")]
    conds = [m for m in MITIGATION_ORDER if m in set(sub["mitigation"])]
    if len(conds) < 2:
        return None
    types = sorted(set(sub["bias_type"]))
    panels = [("bias: |value - ideal|", bias_metric, True)]
    if perf_metric:
        panels.append(("performance", perf_metric, False))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.4 * len(panels), 3.1), squeeze=False)
    width = 0.8 / len(conds)
    x = np.arange(len(types))
    for ax, (label, metric, distance) in zip(axes[0], panels):
        for k, cond in enumerate(conds):
            vals = []
            for bt in types:
                v = sub[(sub["bias_type"] == bt) & (sub["mitigation"] == cond) & (sub["metric"] == metric)]["value"]
                v = v.dropna().astype(float)
                ideal = sub[sub["metric"] == metric]["ideal"].dropna()
                val = float(v.mean()) if len(v) else math.nan
                if distance and len(ideal):
                    val = abs(val - float(ideal.iloc[0]))
                vals.append(val)
            ax.bar(x + (k - (len(conds) - 1) / 2) * width, vals, width, label=cond)
        b = base[base["metric"] == metric]["value"].dropna().astype(float)
        if len(b):
            ideal = base[base["metric"] == metric]["ideal"].dropna()
            bval = abs(float(b.mean()) - float(ideal.iloc[0])) if distance and len(ideal) else float(b.mean())
            ax.axhline(bval, color="#444", ls="--", lw=1, label="ratio 0")
        ax.set_xticks(x, [t.replace(".", ".\n") for t in types], fontsize=7)
        ax.set_title(f"{label}: {metric}", fontsize=9)
    axes[0][0].legend(fontsize=7, frameon=False)
    fig.suptitle(f"{task} at ratio {ratio:g}", fontsize=10)
    return figure_html(png_base64(fig), f"{task}: bias ({bias_metric}, distance from ideal) and "
                       f"performance ({perf_metric or 'n/a'}) for each training condition at ratio "
                       f"{ratio:g}; dashed = the ratio-0 model.")


# ---- sections -------------------------------------------------------------------------------


def _findings(trends: list[dict[str, Any]], frame: Any, mitigation_ratios: list[float],
              correlations: list[dict[str, Any]]) -> list[str]:
    sentences = []
    by_type: dict[str, list[dict[str, Any]]] = {}
    for t in trends:
        by_type.setdefault(t["bias_type"], []).append(t)
    for bt, ts in sorted(by_type.items()):
        rising = sorted([t for t in ts if t["rho"] > 0 and t["end"] > t["start"]], key=lambda t: t["start"] - t["end"])
        flat = [t for t in ts if not (t["rho"] > 0 and t["end"] > t["start"])]
        if rising:
            top = ", ".join(f"{t['task']} {t['metric']} ({fmt(t['start'])} → {fmt(t['end'])}, ρ={fmt(t['rho'], 2)})"
                            for t in rising[:3])
            sentences.append(f"{bt}: bias rises with the ratio on {len(rising)} of {len(ts)} bias metrics; "
                             f"largest: {top}.")
        else:
            sentences.append(f"{bt}: no bias metric rises with the ratio.")
        if flat and rising:
            sentences.append(f"{bt}: no rise on {', '.join(sorted({t['task'] for t in flat} - {t['task'] for t in rising})) or 'other metrics of the same tasks'}.")
    bias = _bias_frame(frame)
    for ratio in mitigation_ratios:
        sub = bias[bias["ratio"] == ratio]
        none = sub[sub["mitigation"] == "none"].groupby(["bias_type", "task", "metric"])["distance"].mean()
        for cond in [m for m in MITIGATION_ORDER[1:] if m in set(sub["mitigation"])]:
            mit = sub[sub["mitigation"] == cond].groupby(["bias_type", "task", "metric"])["distance"].mean()
            joined = none.to_frame("none").join(mit.to_frame("mit"), how="inner").dropna()
            if joined.empty:
                continue
            better = int((joined["mit"] < joined["none"] - 1e-9).sum())
            sentences.append(f"At ratio {ratio:g}, the {cond} mitigation lowered bias on {better} of "
                             f"{len(joined)} (bias type, metric) pairs (mean distance from ideal "
                             f"{fmt(joined['none'].mean())} → {fmt(joined['mit'].mean())}).")
        perf = frame[(frame["kind"] == "performance") & (frame["ratio"] == ratio)]
        perf = perf[perf["higher_is_better"] == True]  # noqa: E712 (pandas comparison)
        if not perf.empty:
            means = perf.groupby("mitigation")["value"].mean()
            if "none" in means:
                parts = [f"{m} {fmt(means[m])}" for m in MITIGATION_ORDER if m in means]
                sentences.append(f"Mean performance (accuracy-type metrics) at ratio {ratio:g}: " + ", ".join(parts) + ".")
    strong = [c for c in correlations if not math.isnan(c["rho"]) and abs(c["rho"]) >= 0.8]
    if strong:
        best = max(strong, key=lambda c: abs(c["rho"]))
        sentences.append(f"Misalignment: {best['measure']} tracks inheritance on {best['task']} {best['metric']} "
                         f"across bias types (Spearman ρ={fmt(best['rho'], 2)}, p={fmt(best['p'], 3)}, "
                         f"n={best['n']} bias types).")
    return sentences


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


def misalignment_correlations(frame: Any, audits: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Spearman rho across bias types between each misalignment measure and the inheritance
    (change in distance from ideal at the largest ratio, no mitigation) of each bias metric."""
    from biasinherit.analysis.correlate import correlate_misalignment

    names, values = _audit_measures(audits)
    bias = frame[(frame["kind"] == "bias") & (frame["mitigation"] == "none")]
    if bias.empty or not names:
        return []
    top = bias["ratio"].max()
    inh = bias[bias["ratio"] == top].groupby(["bias_type", "task", "metric"])["bias_shift"].mean()
    cells: dict[str, dict[str, Any]] = {bt: {name: values[name].get(bt) for name in names} for bt in audits}
    targets: list[str] = []
    for (bt, task, metric), v in inh.items():
        key = f"{task}|{metric}"
        if bt in cells:
            cells[bt][key] = float(v)
            if key not in targets:
                targets.append(key)
    if not cells or not targets:
        return []
    rows = []
    for c in correlate_misalignment(list(cells.values()), names, targets):
        task, metric = c.inheritance.split("|")
        rows.append({"measure": c.measure, "task": task, "metric": metric,
                     "rho": math.nan if c.rho is None else c.rho,
                     "p": math.nan if c.p_value is None else c.p_value, "n": c.n})
    return rows


def render_study_report(frame: Any, manifest: dict[str, Any], audits: dict[str, dict[str, Any]]) -> str:
    config = manifest.get("config", {})
    mitigation_ratios = list(config.get("mitigation", {}).get("ratios", []))
    trends = ratio_trends(frame)
    correlations = misalignment_correlations(frame, audits)
    parts: list[str] = []
    stages = manifest.get("stages", {})
    total = sum(stages.values())
    parts.append(f"<p class='note'>Study <b>{html.escape(str(config.get('name', 'study')))}</b>, config hash "
                 f"{html.escape(str(manifest.get('config_hash')))}, {len(frame)} result rows, "
                 f"{len(manifest.get('cells', {}))} cells, compute time {total:.0f} s.</p>")

    parts.append("<h2>Findings</h2><ul class='findings'>")
    parts += [f"<li>{html.escape(s)}</li>" for s in _findings(trends, frame, mitigation_ratios, correlations)]
    parts.append("</ul><p class='note'>Bias = a metric's distance from its ideal value; inheritance = "
                 "the change relative to the ratio-0 model of the same seed.</p>")

    parts.append("<h2>Does bias rise with the ratio?</h2><p class='note'>Spearman ρ of bias "
                 "(distance from ideal) against the ratio, no mitigation; in brackets the bias at the "
                 "smallest and largest ratio. Red: rises; green: falls.</p>")
    types = sorted({t["bias_type"] for t in trends})
    keys = sorted({(t["task"], t["metric"]) for t in trends})
    lookup = {(t["bias_type"], t["task"], t["metric"]): t for t in trends}
    rows, classes = [], []
    for task, metric in keys:
        row, cls = [task, metric], ["", ""]
        for bt in types:
            t = lookup.get((bt, task, metric))
            if t is None:
                row.append("–")
                cls.append("")
                continue
            row.append(f"{fmt(t['rho'], 2)} ({fmt(t['start'], 2)}→{fmt(t['end'], 2)})")
            cls.append("up" if t["rho"] > 0 and t["end"] > t["start"] else ("down" if t["rho"] < 0 else ""))
        rows.append(row)
        classes.append(cls)
    parts.append(table_html(["task", "metric", *types], rows, classes=classes))

    parts.append("<h2>Inheritance curves</h2><div class='plots'>")
    for task, metrics in _metric_order(frame, "bias").items():
        for metric in metrics:
            fig = _curve_plot(frame, task, metric)
            if fig:
                parts.append(fig)
    parts.append("</div>")

    if mitigation_ratios:
        parts.append("<h2>Mitigations</h2><div class='plots'>")
        perf_order = _metric_order(frame, "performance")
        for ratio in mitigation_ratios:
            for task, metrics in _metric_order(frame, "bias").items():
                fig = _mitigation_plot(frame, task, metrics[0], (perf_order.get(task) or [None])[0], ratio)
                if fig:
                    parts.append(fig)
        parts.append("</div>")

    parts.append("<h2>Misalignment and its correlation with inheritance</h2>")
    names, values = _audit_measures(audits)
    if names:
        shown = names[:40]
        parts.append(table_html(["measure", *sorted(audits)],
                                [[n, *(fmt(values[n].get(bt)) for bt in sorted(audits))] for n in shown],
                                numeric=set(range(1, len(audits) + 1))))
        corr = sorted([c for c in correlations if not math.isnan(c["rho"])], key=lambda c: -abs(c["rho"]))[:25]
        if corr:
            parts.append("<p class='note'>Strongest Spearman correlations across bias types between a "
                         "misalignment measure and inheritance at the largest ratio (few bias types: read "
                         "them as hints, not tests).</p>")
            parts.append(table_html(["measure", "task", "metric", "ρ", "p", "n"],
                                    [[c["measure"], c["task"], c["metric"], fmt(c["rho"], 2), fmt(c["p"], 3), c["n"]]
                                     for c in corr], numeric={3, 4, 5}))
    else:
        parts.append("<p class='note'>No audits were found for this run.</p>")

    parts.append("<h2>Run</h2>")
    parts.append(table_html(["stage", "seconds"], [[k, f"{v:.1f}"] for k, v in sorted(stages.items())],
                            numeric={1}))
    parts.append("<h3>Versions</h3>" + table_html(["package", "version"], sorted(manifest.get("versions", {}).items())))
    parts.append(f"<h3>Config</h3><pre>{html.escape(json.dumps(config, indent=2))}</pre>")
    return page(f"biasinherit study report: {config.get('name', 'study')}", "\n".join(parts))


def write_report(run_dir: str | Path) -> Path:
    """Rebuild ``RUN_DIR/report.html`` from ``results.parquet``, the audits and the manifest."""
    import pandas as pd

    from biasinherit.errors import BiasInheritError

    run_dir = Path(run_dir)
    table = run_dir / "results.parquet"
    if not table.exists():
        raise BiasInheritError("no results.parquet here: is this a study folder?", path=run_dir)
    frame = pd.read_parquet(table)
    manifest_path = run_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    audits = {p.stem: json.loads(p.read_text()) for p in sorted((run_dir / "audit").glob("*.json"))}
    out = run_dir / "report.html"
    with atomic_write(out) as fh:
        fh.write(render_study_report(frame, manifest, audits))
    return out
