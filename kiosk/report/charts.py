"""How the report looks on paper and screen: its style sheet, colours and bar charts.

Inline CSS and SVG only, no scripts and no other files, so the HTML report
can be mailed, opened offline and printed as it is.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping

from kiosk.report.rows import CATEGORIES, Category, GroupTally

CSS = """
@page{size:A4;margin:12mm}
*{box-sizing:border-box}
body{font-family:system-ui,'DejaVu Sans',sans-serif;margin:1.5em auto;max-width:1100px;
color:#222;font-size:14px;line-height:1.35;padding:0 1em}
h1{margin:0 0 .1em;font-size:1.7em}h2{margin:1.6em 0 .4em;font-size:1.2em;
border-bottom:2px solid #ddd;padding-bottom:.15em;break-after:avoid}
p.meta{color:#555;margin:0 0 1em}p.note{color:#555;margin:.2em 0 .5em;font-size:.92em}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(105px,1fr));gap:.5em;
margin:.5em 0 1em}
.kpi{border:1px solid #ddd;border-left:5px solid #888;padding:.35em .6em;border-radius:3px;
break-inside:avoid}
.kpi b{display:block;font-size:1.55em;line-height:1.1}.kpi span{font-size:.85em;color:#444}
table{border-collapse:collapse;margin:.3em 0 1em;width:100%}
td,th{border:1px solid #d4d4d4;padding:2px 7px;text-align:left;vertical-align:top;
font-size:.9em}
th{background:#f0f0f0}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tbody tr:nth-child(even){background:#fafafa}
thead{display:table-header-group}tr{break-inside:avoid}
ol.cols li code{font-family:ui-monospace,'DejaVu Sans Mono',monospace;
white-space:nowrap}
.muted{color:#777}.bad{color:#b71c1c;font-weight:600}
.legend{font-size:.85em;margin:.2em 0}.legend i{display:inline-block;width:.9em;height:.9em;
margin:0 .3em 0 1em;vertical-align:-.1em}.legend i:first-child{margin-left:0}
svg.chart{width:100%;height:auto;max-width:1000px;break-inside:avoid}
svg.chart text{font-family:system-ui,'DejaVu Sans',sans-serif}
ol.cols{columns:3 16em;column-gap:2em;padding-left:2.6em;margin:.3em 0 1em;font-size:.85em}
ol.cols li{break-inside:avoid}
.chartbox{break-inside:avoid}
@media print{body{margin:0;max-width:none;font-size:10pt;padding:0}
h2{break-after:avoid;page-break-after:avoid}
.kpi{border-left-width:4px}
section.long{break-before:page}}
"""

COLORS: dict[str, str] = {
    "found": "#2e7d32",
    "missing": "#c62828",
    "on_loan": "#f9a825",
    "excluded": "#7e57c2",
    "not_covered": "#cfcfcf",
}
KPI_COLORS = COLORS | {
    "misshelved": "#ef6c00",
    "wrong_location": "#ef6c00",
    "unknown": "#6d4c41",
    "coverage": "#1565c0",
    "catalog": "#555",
}


def bar_chart(
    groups: Mapping[str, GroupTally], label: Callable[[str], str], t: Mapping[str, str]
) -> str:
    """A stacked horizontal bar per group, as inline SVG (no scripts, prints well)."""
    width, bar, gap, left, right = 1000, 20, 7, 260, 130
    most = max((g.catalog for g in groups.values()), default=1)
    height = (bar + gap) * len(groups) + gap
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, (name, g) in enumerate(groups.items()):
        y = gap + i * (bar + gap)
        text = html.escape(label(name))
        parts.append(
            f'<text x="{left - 8}" y="{y + bar - 6}" font-size="14" text-anchor="end">{text}</text>'
        )
        x = float(left)
        for k in CATEGORIES:
            w = (width - left - right) * g.counts[k] / most
            if w > 0:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar}" '
                    f'fill="{COLORS[k]}"><title>{html.escape(t[k])}: {g.counts[k]}</title></rect>'
                )
            x += w
        parts.append(
            f'<text x="{x + 6:.1f}" y="{y + bar - 6}" font-size="13">'
            f"{g.counts[Category.FOUND]:,}/{g.catalog:,} · {g.share_covered:.0%}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
