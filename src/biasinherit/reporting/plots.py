"""The study report's plots: matplotlib figures embedded as SVG (sharp at any zoom), legends
outside the data, error bars and bands from the seed + item intervals of ``summary.csv``."""

from __future__ import annotations

import html
import io
import math
from typing import Any

MITIGATION_ORDER = ["none", "token", "mask", "loss"]
_COLORS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"]


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "font.size": 8, "axes.titlesize": 9,
                         "axes.spines.top": False, "axes.spines.right": False})
    return plt


def svg_figure(fig: Any, caption: str) -> str:
    """The figure as inline SVG in a <figure> with its caption; closes the figure."""
    plt = _plt()
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]  # drop the XML prologue and doctype
    return f"<figure>{svg}<figcaption>{html.escape(caption)}</figcaption></figure>"


def short_type(bias_type: str) -> str:
    """'gender.stereotype' -> 'gender\\nstereotype' for tick labels."""
    return bias_type.replace(".", "\n")


def curve_plot(summary: Any, task: str, metric: str) -> str | None:
    """The metric against the ratio, one line per bias type (unmitigated), with CI bands."""
    plt = _plt()
    data = summary[(summary["task"] == task) & (summary["metric"] == metric) & (summary["mitigation"] == "none")]
    data = data[data["value"].notna()]
    if data.empty or data["ratio"].nunique() < 2:
        return None
    fig, ax = plt.subplots(figsize=(4.4, 3.3))
    for k, (bt, g) in enumerate(data.groupby("bias_type", sort=True)):
        g = g.sort_values("ratio")
        color = _COLORS[k % len(_COLORS)]
        ax.plot(g["ratio"], g["value"], marker="o", ms=3, lw=1.4, color=color, label=bt)
        if g["ci_low"].notna().all() and g["ci_high"].notna().all():
            ax.fill_between(g["ratio"], g["ci_low"].astype(float), g["ci_high"].astype(float), color=color,
                            alpha=0.12, lw=0)
    direction = data["direction"].dropna()
    arrow = ""
    if not direction.empty:
        arrow = " (↑ toward stereotype)" if int(direction.iloc[0]) == 1 else " (↓ toward stereotype)"
    ax.set_xlabel("bias ratio (share of augmented data)")
    ax.set_ylabel(metric + arrow)
    ax.set_title(f"{task}: {metric}")
    ax.legend(fontsize=7, frameon=False, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.2))
    n = int(data["n_seeds"].max())
    return svg_figure(fig, f"{task} / {metric} against the bias ratio, mean over {n} seed(s); bands: 95% "
                           "intervals over seeds and evaluation items.")


def mitigation_plot(summary: Any, task: str, metric: str, ratio: float) -> str | None:
    """Signed inheritance (toward the stereotype: positive) per bias type and training condition
    at ``ratio``, with 95% error bars."""
    plt = _plt()
    import numpy as np

    data = summary[(summary["task"] == task) & (summary["metric"] == metric) & (summary["ratio"] == ratio)]
    conds = [m for m in MITIGATION_ORDER if m in set(data["mitigation"])]
    conds += sorted(set(data["mitigation"]) - set(conds))
    if len(conds) < 2 or data["inheritance"].isna().all():
        return None
    types = sorted(set(data["bias_type"]))
    fig, ax = plt.subplots(figsize=(max(4.4, 0.9 * len(types) + 1.6), 3.3))
    width = 0.8 / len(conds)
    x = np.arange(len(types))
    for k, cond in enumerate(conds):
        heights, lows, highs = [], [], []
        for bt in types:
            row = data[(data["bias_type"] == bt) & (data["mitigation"] == cond)]
            if row.empty or math.isnan(float(row["inheritance"].iloc[0])):
                heights.append(math.nan)
                lows.append(0.0)
                highs.append(0.0)
                continue
            d = int(row["direction"].iloc[0] or 1)
            v, lo, hi = (d * float(row[c].iloc[0]) for c in ("inheritance", "inheritance_ci_low", "inheritance_ci_high"))
            lo, hi = min(lo, hi), max(lo, hi)
            heights.append(v)
            lows.append(0.0 if math.isnan(lo) else v - lo)
            highs.append(0.0 if math.isnan(hi) else hi - v)
        ax.bar(x + (k - (len(conds) - 1) / 2) * width, heights, width, yerr=[lows, highs], capsize=2,
               label=cond, color=_COLORS[k % len(_COLORS)], error_kw={"lw": 0.8})
    ax.axhline(0, color="#444", lw=0.8)
    ax.set_xticks(x, [short_type(t) for t in types], fontsize=7)
    ax.set_ylabel("inheritance toward the stereotype")
    ax.set_title(f"{task}: {metric}, ratio {ratio:g}")
    ax.legend(fontsize=7, frameon=False, ncol=len(conds), loc="upper center", bbox_to_anchor=(0.5, -0.25))
    return svg_figure(fig, f"{task} / {metric}: inheritance (value minus the same seed's ratio-0 model, signed "
                           f"so that positive is toward the stereotype) at ratio {ratio:g} per training "
                           "condition; error bars: 95% intervals over seeds and items.")
