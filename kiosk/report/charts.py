"""How the report looks on paper and screen: its style sheet, colours and bar charts.

Inline CSS and plain HTML boxes only, no scripts, no images and no other
files, so the HTML report can be mailed, opened offline and printed as it is.
Tables of books stack into cards on a phone; wide tables of figures scroll.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping

from kiosk import textfmt
from kiosk.report.rows import CATEGORIES, Category, GroupTally

CSS = """
@page{size:A4;margin:11mm}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{font-family:system-ui,'DejaVu Sans',sans-serif;margin:1.2em auto;max-width:1100px;
color:#222;font-size:14px;line-height:1.35;padding:0 .8em}
h1{margin:0 0 .1em;font-size:1.6em}
h2{margin:1.3em 0 .35em;font-size:1.25em;border-bottom:2px solid #ddd;padding-bottom:.1em;
break-after:avoid}
h3{margin:.9em 0 .25em;font-size:1.02em;break-after:avoid}
p.meta{color:#555;margin:0 0 .8em}p.note{color:#555;margin:.15em 0 .4em;font-size:.92em}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(100px,1fr));gap:.4em;
margin:.4em 0 .6em}
.kpi{border:1px solid #ddd;border-left:5px solid #888;padding:.25em .5em;border-radius:3px;
break-inside:avoid}
.kpi b{display:block;font-size:1.4em;line-height:1.1}.kpi span{font-size:.82em;color:#444}
.scroll{overflow-x:auto;margin:.2em 0 .8em;max-width:100%}
table{border-collapse:collapse;width:100%}
td,th{border:1px solid #d4d4d4;padding:2px 6px;text-align:left;vertical-align:top;
font-size:.9em;overflow-wrap:break-word}
th{background:#f0f0f0}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
td.n{white-space:nowrap}
td.box,th.box{width:1%;white-space:nowrap;text-align:center}
td.box input{margin:0;width:1.1em;height:1.1em}
table.wide{min-width:44em}table.wide td:first-child{white-space:nowrap}
tbody tr:nth-child(even){background:#fafafa}
thead{display:table-header-group}tr{break-inside:avoid}
code{font-family:ui-monospace,'DejaVu Sans Mono',monospace;white-space:nowrap}
.muted{color:#777}.nw{white-space:nowrap}.bad{color:#b71c1c;font-weight:600}
.todo{border:2px solid #ef6c00;border-radius:4px;padding:.1em .8em .4em;margin:.6em 0}
.todo h2{border:0;margin-top:.5em}
.damage{border:3px solid #b71c1c;background:#fdecea;border-radius:4px;padding:.1em .8em .3em;
margin:.6em 0;break-inside:avoid}.damage h2{border:0;color:#b71c1c;margin-top:.5em}
.legend{font-size:.85em;margin:.2em 0}.legend i{display:inline-block;width:.9em;height:.9em;
margin:0 .3em 0 .8em;vertical-align:-.1em}.legend i:first-child{margin-left:0}
.chart{margin:.2em 0 .6em;break-inside:avoid}
.chart div{display:grid;grid-template-columns:minmax(7em,15em) 1fr 8.5em;gap:.2em .6em;
align-items:center;font-size:.88em;margin:.15em 0}
.chart .bar{display:flex;height:1em;grid-column:2;grid-row:1}
.chart .bar i{display:block;height:100%}
.chart .val{font-variant-numeric:tabular-nums;color:#333;grid-column:3;grid-row:1}
.chartbox{break-inside:avoid}
ol.cols{columns:3 15em;column-gap:2em;padding-left:2.6em;margin:.3em 0 1em;font-size:.85em}
ol.cols li{break-inside:avoid}
@media (max-width:640px){
body{font-size:15px;padding:0 .5em;margin:.6em auto}
.chart div{grid-template-columns:1fr auto}.chart .val{grid-column:2}
.chart .bar{grid-column:1/-1;grid-row:2;height:.9em}
table.stack,table.stack tbody,table.stack tr,table.stack td{display:block;width:auto}
table.stack thead{display:none}
table.stack tr{border:1px solid #d4d4d4;border-radius:3px;margin:0 0 .4em;padding:.2em .4em}
table.stack td{border:0;padding:1px 0}
table.stack td[data-label]::before{content:attr(data-label) ": ";color:#666;font-size:.9em}
table.stack td.box{float:right;width:auto}
ol.cols{columns:1}}
@media print{body{margin:0;max-width:none;font-size:8.5pt;padding:0;line-height:1.25}
h1{font-size:15pt}h2{font-size:11pt;margin-top:.9em}h3{font-size:9.5pt;margin-top:.6em}
td,th{font-size:8pt;padding:1px 4px}
.kpis{grid-template-columns:repeat(9,1fr)}.kpi{border-left-width:4px}.kpi b{font-size:12pt}
.scroll{overflow:visible}table.wide{min-width:0}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
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
    "todo": "#b71c1c",
    "misshelved": "#ef6c00",
    "wrong_location": "#ef6c00",
    "unknown": "#6d4c41",
    "coverage": "#1565c0",
    "catalog": "#555",
}


def bar_chart(
    groups: Mapping[str, GroupTally],
    label: Callable[[str], str],
    t: Mapping[str, str],
    lang: str,
) -> str:
    """A stacked bar per group, as HTML boxes that reflow on a phone and print as they are.

    Bars are scaled to the biggest group; the label and the figures sit beside
    the bar on a page and above it on a narrow screen (no text shrinks with it).
    """
    e = html.escape
    most = max((g.catalog for g in groups.values()), default=1) or 1
    rows = []
    for name, g in groups.items():
        parts = []
        for k in CATEGORIES:
            if g.counts[k]:
                width = 100 * g.counts[k] / most
                tip = f"{t[k]}: {textfmt.num(g.counts[k], lang)}"
                parts.append(
                    f'<i style="width:{width:.2f}%;background:{COLORS[k]}" title="{e(tip)}"></i>'
                )
        figures = (
            f"{textfmt.num(g.counts[Category.FOUND], lang)}/{textfmt.num(g.catalog, lang)}"
            f" · {textfmt.pct(g.share_covered, lang, 0)}"
        )
        rows.append(
            f'<div><span class="lab">{e(label(name))}</span>'
            f'<span class="val">{figures}</span>'
            f'<span class="bar">{"".join(parts)}</span></div>'
        )
    return f'<div class="chart" role="img">{"".join(rows)}</div>'
