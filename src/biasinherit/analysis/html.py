"""The audit as one self-contained HTML page: tables and plots, no external URL.

Plots are drawn with matplotlib (Agg) and embedded as base64 PNG images.
"""

from __future__ import annotations

import html
from typing import Any

from biasinherit.reporting._page import CSS as _CSS
from biasinherit.reporting._page import figure_html as _figure
from biasinherit.reporting._page import png_base64 as _png

__all__ = ["render_audit_html"]

ORIGINAL_COLOR = "#4C72B0"
AUGMENTED_COLOR = "#DD8452"




def _share_plot(attr: str, table: dict[str, Any]) -> str | None:
    import matplotlib.pyplot as plt
    import numpy as np

    if not table.get("original_share") or not table.get("augmented_share"):
        return None
    labels = table["labels"]
    x = np.arange(len(labels))
    fig, ax = plt.subplots(figsize=(max(4.5, 0.6 * len(labels) + 2), 3.2))
    ax.bar(x - 0.2, table["original_share"], 0.4, label="original", color=ORIGINAL_COLOR)
    ax.bar(x + 0.2, table["augmented_share"], 0.4, label="augmented", color=AUGMENTED_COLOR)
    ax.set_xticks(x, labels, rotation=30 if len(labels) > 4 else 0, ha="right" if len(labels) > 4 else "center")
    ax.set_ylabel("share of mentions")
    ax.set_title(f"{attr}: group shares")
    ax.legend(frameon=False)
    return _figure(_png(fig), f"Share of each {attr} group among {attr} mentions, original vs augmented.")


def _association_plot(attr: str, kind: str, table: dict[str, Any]) -> str | None:
    import matplotlib.pyplot as plt

    pairs = [p for p in table.get("top_shifted_pairs", []) if p["change"] > 0][:10]
    if not pairs:
        return None
    labels = [f"{p['group']} · {p['item']}" for p in pairs][::-1]
    values = [p["change"] for p in pairs][::-1]
    colors = [AUGMENTED_COLOR if p["stereotyped"] else "#999999" for p in pairs][::-1]
    fig, ax = plt.subplots(figsize=(5.5, 0.35 * len(pairs) + 1.2))
    ax.barh(range(len(pairs)), values, color=colors)
    ax.set_yticks(range(len(pairs)), labels)
    ax.set_xlabel("change in log-odds ratio (augmented − original)")
    ax.set_title(f"{attr} × {kind}: most strengthened pairs")
    return _figure(_png(fig), f"{attr} × {kind} pairs whose association grew most; orange = stereotyped pair.")


def _embedding_plot(table: dict[str, Any]) -> str | None:
    import matplotlib.pyplot as plt
    import numpy as np

    if not table:
        return None
    fig, ax = plt.subplots(figsize=(5, 4))
    for key, color in (("original", ORIGINAL_COLOR), ("augmented", AUGMENTED_COLOR)):
        pts = np.asarray(table.get(key) or [])
        if len(pts):
            ax.scatter(pts[:, 0], pts[:, 1], s=8, alpha=0.5, color=color, label=key)
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.set_title("embedding map")
    ax.legend(frameon=False, markerscale=2)
    return _figure(_png(fig), "Sentence embeddings of both sets, projected on their first two principal components.")


def _length_plot(hist: dict[str, Any]) -> str | None:
    import matplotlib.pyplot as plt
    import numpy as np

    if not hist:
        return None
    edges = np.asarray(hist["edges"])
    centers = (edges[:-1] + edges[1:]) / 2
    width = edges[1] - edges[0]
    fig, ax = plt.subplots(figsize=(5, 3.2))
    for key, color in (("original", ORIGINAL_COLOR), ("augmented", AUGMENTED_COLOR)):
        counts = np.asarray(hist[key], dtype=float)
        if counts.sum():
            ax.bar(centers, counts / counts.sum(), width, alpha=0.55, color=color, label=key)
    ax.set_xlabel("words per record")
    ax.set_ylabel("share of records")
    ax.set_title("record length")
    ax.legend(frameon=False)
    return _figure(_png(fig), "Length distribution of both sets.")


def _values_plot(cells: list[dict[str, Any]]) -> str | None:
    import matplotlib.pyplot as plt

    rows = [c for c in cells if c.get("jsd") is not None and c.get("stereotyped_stance")]
    if not rows:
        return None
    rows = sorted(rows, key=lambda c: c["group"] + c["dimension"])[:24]
    fig, ax = plt.subplots(figsize=(6, 0.3 * len(rows) + 1.2))
    for i, c in enumerate(rows):
        sign = 1 if c["stereotyped_stance"] == "agree" else -1
        po = c["agree_original"] if sign > 0 else 1 - c["agree_original"]
        pa = c["agree_augmented"] if sign > 0 else 1 - c["agree_augmented"]
        ax.plot([po, pa], [i, i], color="#bbb", zorder=1)
        ax.scatter([po], [i], color=ORIGINAL_COLOR, zorder=2, label="original" if i == 0 else None)
        ax.scatter([pa], [i], color=AUGMENTED_COLOR, zorder=2, label="augmented" if i == 0 else None)
    ax.set_yticks(range(len(rows)), [f"{c['group']} · {c['dimension']}" for c in rows])
    ax.set_xlim(-0.05, 1.05)
    ax.set_xlabel("share taking the stereotyped stance")
    ax.set_title("values: stereotyped stances")
    ax.legend(frameon=False, loc="lower right")
    return _figure(_png(fig), "For group × value dimensions with a stereotyped stance: share taking it.")


def _summary_table(summary: list[dict[str, Any]]) -> str:
    rows = []
    for r in summary:
        value = "" if r["value"] is None else f"{r['value']:.4f}"
        rows.append(
            f"<tr><td>{html.escape(r['measure'])}</td><td class='num'>{value}</td>"
            f"<td>{html.escape(r['interval'])}</td><td class='num'>{r['n_original']} / {r['n_augmented']}</td>"
            f"<td>{html.escape(r['reading'])}</td></tr>"
        )
    return ("<table><tr><th>measure</th><th>value</th><th>interval / p</th><th>n (orig / aug)</th>"
            "<th>reading</th></tr>" + "".join(rows) + "</table>")


def render_audit_html(data: dict[str, Any], *, title: str = "Bias-inheritance audit") -> str:
    """The page for an ``audit.json`` document."""
    import matplotlib

    matplotlib.use("Agg")
    groups = data["analyses"].get("groups", {}).get("tables", {})
    dist = data["analyses"].get("distribution", {}).get("tables", {})
    values = data["analyses"].get("values", {}).get("tables", {})
    plots_groups = []
    for key, table in groups.items():
        attr, _, what = key.partition(".")
        if what == "shares":
            plots_groups.append(_share_plot(attr, table))
        elif what.endswith("_association"):
            plots_groups.append(_association_plot(attr, what.removesuffix("_association"), table))
    plots_dist = [_embedding_plot(dist.get("embedding_map", {})), _length_plot(dist.get("length_histogram", {}))]
    plots_values = [_values_plot(values.get("cells", []))]
    counts = data["counts"]
    inputs = data.get("inputs", {})
    esc = html.escape
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
        f"<p>Original: {counts['original']} records{' (' + esc(inputs['original']) + ')' if inputs.get('original') else ''}; "
        f"augmented: {counts['augmented']} records{' (' + esc(inputs['augmented']) + ')' if inputs.get('augmented') else ''}. "
        f"Finished in {data['seconds']:.1f} s.</p>",
        "<h2>Findings</h2><ul class='findings'>",
        *(f"<li>{esc(f)}</li>" for f in data["findings"]),
        "</ul>",
        *(f"<p class='note'>{esc(n)}</p>" for n in data["notes"]),
        "<h2>All measures</h2>", _summary_table(data["summary"]),
        "<h2>Group data</h2><div class='plots'>", *(p for p in plots_groups if p), "</div>",
        "<h2>Values</h2><div class='plots'>",
        *([p for p in plots_values if p] or ["<p class='note'>no value-laden records to plot</p>"]),
        "</div>",
        "<h2>Data distribution</h2><div class='plots'>", *(p for p in plots_dist if p), "</div>",
        "<h2>Provenance</h2><pre>",
        esc(_json({"config": data["config"], "provenance": data["provenance"]})),
        "</pre></body></html>",
    ]
    return "\n".join(parts)


def _json(obj: Any) -> str:
    import json

    return json.dumps(obj, indent=2, ensure_ascii=False)
