"""Shared pieces of the self-contained HTML pages (audit and study report): CSS, matplotlib
figures embedded as base64 PNG, and the page frame. No external URL is ever referenced."""

from __future__ import annotations

import base64
import html
import io
from typing import Any

CSS = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 1150px; color: #222; line-height: 1.4; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.8em; border-bottom: 1px solid #ddd; }
h3 { font-size: 1.05em; margin-top: 1.2em; }
table { border-collapse: collapse; width: 100%; font-size: 0.88em; margin: 0.8em 0; }
th, td { border-bottom: 1px solid #eee; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f6f6f6; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.findings li { margin: 0.3em 0; } .note { color: #666; font-size: 0.9em; }
.plots { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }
figure { margin: 0; flex: 0 1 540px; max-width: 100%; }
.plots.wide figure { flex-basis: 100%; }
figure img { max-width: 100%; border: 1px solid #eee; } figcaption { font-size: 0.85em; color: #555; }
td.up { background: #fde0dd; } td.down { background: #e0f3db; }
table.tests, table.fixed { table-layout: fixed; font-size: 0.8em; }
table.tests th, table.fixed th { font-size: 0.9em; overflow-wrap: anywhere; }
table.tests td, table.fixed td { padding: 3px 4px; overflow-wrap: anywhere; } table.tests td.label { width: 24%; }
table.tests td.na { color: #999; font-size: 0.85em; } span.metric { color: #555; }
figure svg { max-width: 100%; height: auto; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
"""


def png_base64(fig: Any, *, dpi: int = 90) -> str:
    """Render a matplotlib figure to base64 PNG and close it."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def figure_html(b64: str, caption: str) -> str:
    return (f'<figure><img class="plot" alt="{html.escape(caption)}" src="data:image/png;base64,{b64}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{CSS}</style></head>"
            f"<body><h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n")


def table_html(header: list[str], rows: list[list[Any]], *, numeric: set[int] | None = None,
               classes: list[list[str]] | None = None, css_class: str = "") -> str:
    """A table; headers may break after a dot (long bias-type names), so wide tables still fit a
    narrow window with ``css_class="fixed"``."""
    numeric = numeric or set()
    attr = f" class='{css_class}'" if css_class else ""
    out = [f"<table{attr}><tr>", *(f"<th>{html.escape(h).replace('.', '.<wbr>')}</th>" for h in header), "</tr>"]
    for i, row in enumerate(rows):
        out.append("<tr>")
        for j, cell in enumerate(row):
            cls = [*(["num"] if j in numeric else []), *([classes[i][j]] if classes and classes[i][j] else [])]
            attr = f' class="{" ".join(cls)}"' if cls else ""
            out.append(f"<td{attr}>{html.escape(str(cell))}</td>")
        out.append("</tr>")
    out.append("</table>")
    return "".join(out)


def fmt(x: Any, digits: int = 3) -> str:
    if x is None:
        return "–"
    try:
        value = float(x)
    except (TypeError, ValueError):
        return str(x)
    if value != value:
        return "–"
    return f"{value:.{digits}f}"
