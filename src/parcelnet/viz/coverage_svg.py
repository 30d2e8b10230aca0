"""The coverage map's self-contained HTML page: an inline SVG (hover titles on provinces,
places, hubs and lanes), its legend and the sortable province table. Drawn by
:func:`parcelnet.viz.coverage_map.render_coverage_map`."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from matplotlib.colors import to_hex

from parcelnet.viz.coverage_layers import HOUR_BINS, LABEL_STYLE, SHARE_CMAP, map_labels
from parcelnet.viz.map_lanes import lane_strokes, lane_style

#: label font size in SVG units (the viewBox is 1200 wide) and CSS class per kind
_SVG_FONT = {"origin": 14.0, "air_hub": 12.0, "gateway": 11.5, "hub": 11.5, "place": 11.0}
_SVG_TIER = {"air_hub": "air hub", "gateway": "air gateway", "hub": "hub"}


def _f(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


def _svg(outlines, hubs, pl, lanes, lane_mode, origin, proj, scale, n_labels,
         width: float = 1200.0) -> str:
    x0, x1, y0, y1 = proj.box
    s = width / (x1 - x0)
    height = (y1 - y0) * s
    f = _f

    def to_svg(x, y):
        return (np.asarray(x) - x0) * s, (y1 - np.asarray(y)) * s

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {f(width)} {f(height)}" '
           f'width="100%" style="max-width:{int(width)}px" role="img">',
           '<rect width="100%" height="100%" fill="#ffffff"/>', '<g class="prov">']
    for name, rings in proj.rings(outlines):
        d = []
        for r in rings:
            xs, ys = to_svg(r[:, 0], r[:, 1])
            q = np.stack([np.round(xs * 2), np.round(ys * 2)], 1)  # drop sub-half-pixel steps
            keep = np.r_[True, np.any(np.diff(q, axis=0) != 0, axis=1)]
            xs, ys = xs[keep], ys[keep]
            if xs.size >= 3:
                d.append("M" + "L".join(f"{f(a)} {f(b)}" for a, b in zip(xs, ys)) + "Z")
        sh = scale.share.get(name) if scale.share is not None else None
        tip = html.escape(str(name)) + (f": {100 * sh:.1f}% within 24 h" if sh is not None else "")
        out.append(f'<path d="{"".join(d)}" fill="{scale.colour(name)}"><title>{tip}</title></path>')
    out.append("</g>")
    frames = {}
    if proj.frames:
        out.append('<g class="insets" fill="none" stroke="#8a8a8a" stroke-width="1">')
        for i, (name, (fx0, fx1, fy0, fy1)) in enumerate(proj.frames):
            (a, c), (b, d) = to_svg([fx0, fx1], [fy1, fy0])
            frames[i] = (float(a), float(c), float(b), float(d))
            out.append(f'<rect class="inset" data-name="{html.escape(name)}" x="{f(a)}" y="{f(b)}" '
                       f'width="{f(c - a)}" height="{f(d - b)}"/>'
                       f'<text x="{f(a + 6)}" y="{f(b + 14)}" stroke="none" fill="#555" '
                       f'font-size="11" font-style="italic">{html.escape(name)} (own scale)</text>')
        out.append("</g>")
    for st in lane_strokes(lanes, proj, lane_mode):
        col, _, dashed, label = lane_style(lane_mode, st.key)
        xs, ys = to_svg(st.seg[..., 0], st.seg[..., 1])
        dash = ' stroke-dasharray="4 3"' if dashed else ""
        paths = ["M" + "L".join(f"{f(a)} {f(b)}" for a, b in zip(rx, ry)) for rx, ry in zip(xs, ys)]
        out.append(f'<g class="lanes {st.key}" fill="none" stroke="{col}" stroke-opacity="{st.alpha:.3g}" '
                   f'stroke-linecap="round"{dash}>')
        if lane_mode == "bundled":
            for p, w, n, t in zip(paths, st.width, st.lanes, st.trips):
                out.append(f'<path d="{p}" stroke-width="{f(w * 1.2)}"><title>{int(n)} lanes, '
                           f'{t:,.0f} trips a day</title></path>')
        else:
            out.append(f'<path d="{"".join(paths)}" stroke-width="{f(st.width[0] * 1.2)}"/>')
        out.append("</g>")
    out.append('<g class="places" stroke="#333" stroke-width="0.3">')
    cx, cy = to_svg(pl["_x"].to_numpy(), pl["_y"].to_numpy())
    cols = [c for _, c in HOUR_BINS]
    for x, y, r, b, name, adm, pop, h in zip(
            cx, cy, 1.0 + 6.0 * pl["_r"].to_numpy(), pl["_bin"].to_numpy(), pl["name"],
            pl.get("admin1", pd.Series("", index=pl.index)), pl["population"], pl["hours"]):
        when = "unreachable" if pd.isna(h) else f"{float(h):.1f} h"
        tip = html.escape(f"{name} ({'' if pd.isna(adm) else adm})\n"
                          f"population {int(pop):,}\npromised: {when}")
        out.append(f'<circle cx="{f(x)}" cy="{f(y)}" r="{f(r)}" fill="{cols[b]}">'
                   f"<title>{tip}</title></circle>")
    out.append("</g><g class=\"hubs\" stroke=\"#fff\" stroke-width=\"0.6\">")
    hx, hy = to_svg(hubs["_x"].to_numpy(), hubs["_y"].to_numpy())
    for x, y, t, name in zip(hx, hy, hubs["tier"], hubs["name"]):
        tip = f"<title>{html.escape(str(name))} ({_SVG_TIER.get(t, 'hub')})</title>"
        if t in ("air_hub", "gateway"):
            k = 1.0 if t == "air_hub" else 0.65
            pts = (f"{f(x)},{f(y - 4.5 * k)} {f(x - 4 * k)},{f(y + 3 * k)} "
                   f"{f(x + 4 * k)},{f(y + 3 * k)}")
            fill = "#7b3294" if t == "air_hub" else "#b07cc6"
            out.append(f'<polygon points="{pts}" fill="{fill}">{tip}</polygon>')
        else:
            out.append(f'<rect x="{f(x - 2.5)}" y="{f(y - 2.5)}" width="5" height="5" '
                       f'fill="#1f3b73">{tip}</rect>')
    out.append("</g>")
    if origin is not None:
        ox, oy = to_svg(*proj(origin[2], origin[1]))
        ang = np.pi / 2 + np.arange(10) * np.pi / 5
        rad = np.where(np.arange(10) % 2 == 0, 11.0, 4.5)
        pts = " ".join(f"{f(ox + r * np.cos(a))},{f(oy - r * np.sin(a))}" for a, r in zip(ang, rad))
        out.append(f'<polygon points="{pts}" fill="#ffd400" stroke="#000" stroke-width="1">'
                   f"<title>origin: {html.escape(str(origin[0]))}</title></polygon>")
    frames[-1] = (0.0, width, 0.0, height)
    avoid = [frames[i] for i in range(len(proj.frames))]
    rad = {"origin": 11.0, "air_hub": 4.5, "gateway": 3.0, "hub": 2.5}
    labels = map_labels(hubs, pl, origin, proj, n_labels, lambda x, y: tuple(map(float, to_svg(x, y))),
                        _SVG_FONT, frames, avoid,
                        lambda kind, r: rad.get(kind, 1.0 + 6.0 * r))
    out.append('<g class="labels" font-family="system-ui,sans-serif" paint-order="stroke" '
               'stroke="#fff" stroke-width="3" stroke-linejoin="round">')
    for lb in labels:
        col, _, weight = LABEL_STYLE[lb.kind]
        out.append(f'<text class="{lb.kind}" x="{f(lb.at[0])}" y="{f(lb.at[1])}" '
                   f'text-anchor="{lb.align}" dominant-baseline="central" fill="{col}" '
                   f'font-weight="{weight}" font-size="{f(_SVG_FONT[lb.kind])}">'
                   f"{html.escape(lb.text)}</text>")
    out.append("</g></svg>")
    return "\n".join(out)


_CSS = """body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
.places circle:hover,.hubs>*:hover{stroke:#000;stroke-width:1.5}
.prov path{stroke:#9a9a9a;stroke-width:0.5}.prov path:hover{stroke:#333;stroke-width:1}
.lanes path:hover{stroke-opacity:0.9}.labels{pointer-events:none}
.legend span{display:inline-block;margin-right:1.2em}.legend i{display:inline-block;width:12px;
height:12px;border-radius:50%;border:1px solid #333;margin-right:4px;vertical-align:middle}
.legend i.ramp{width:120px;border-radius:0;border-color:#999;margin:0 4px}
table{border-collapse:collapse;margin-top:1em}td,th{padding:3px 10px;border-bottom:1px solid #ddd;
text-align:left}th{cursor:pointer;background:#f4f4f4}td.n{text-align:right}
.bar{background:#4a90c2;height:10px}"""
_JS = """document.querySelectorAll('th').forEach((th,i)=>th.onclick=()=>{const tb=th.closest(
'table').tBodies[0],rows=[...tb.rows],num=th.dataset.num,asc=th.dataset.asc!=='1';
th.dataset.asc=asc?'1':'0';rows.sort((a,b)=>{const x=a.cells[i].dataset.v,y=b.cells[i].dataset.v;
const c=num?x-y:x.localeCompare(y);return asc?c:-c});rows.forEach(r=>tb.appendChild(r))});"""


def coverage_html(title, outlines, hubs, pl, lanes, lane_mode, origin, proj, scale,
                  n_labels) -> str:
    svg = _svg(outlines, hubs, pl, lanes, lane_mode, origin, proj, scale, n_labels)
    counts = np.bincount(pl["_bin"].to_numpy(), minlength=len(HOUR_BINS))
    legend = "".join(f'<span><i style="background:{c}"></i>{html.escape(lab)} ({n})</span>'
                     for (lab, c), n in zip(HOUR_BINS, counts))
    legend += ('<span>■ hub</span><span style="color:#7b3294">▲ air hub</span>'
               '<span style="color:#b8860b">★ origin</span>')
    if lane_mode == "bundled":
        legend += ('<span style="color:#2b4a7a">▬ line-haul corridors (lanes routed over '
                   'shared corridors; width: trips a day)</span><span style="color:#7b3294">'
                   '- - air links (width: trips a day)</span>')
    elif lane_mode == "light":
        legend += '<span style="color:#7b3294">- - air lane</span><span>— line-haul lane</span>'
    if scale.share is not None:
        ramp = ",".join(to_hex(SHARE_CMAP(t)) for t in (0.0, 0.5, 1.0))
        legend += (f'<span class="scale">province shading: {100 * scale.vmin:.3g}%'
                   f'<i class="ramp" style="background:linear-gradient(to right,{ramp})"></i>'
                   f'{100 * scale.vmax:.3g}% of the population within 24 h '
                   f'(scale fitted to the data)</span>')
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>", f'<div class="legend">{legend}</div>', svg]
    if scale.share is not None:
        rows = []
        for name, v in sorted(scale.share.items(), key=lambda kv: (-float(kv[1]), str(kv[0]))):
            pct = 100 * float(v)
            rows.append(f'<tr><td data-v="{html.escape(str(name))}">{html.escape(str(name))}</td>'
                        f'<td class="n" data-v="{pct:.3f}">{pct:.1f}%</td><td data-v="{pct:.3f}">'
                        f'<div class="bar" style="width:{1.5 * pct:.0f}px"></div></td></tr>')
        parts += ["<h2>Population reached within 24 h, by province</h2>",
                  '<table class="provinces"><thead><tr><th>Province</th>'
                  '<th data-num="1">24 h share</th><th data-num="1"></th></tr></thead><tbody>',
                  *rows, "</tbody></table>", f"<script>{_JS}</script>"]
    parts.append("</body></html>")
    return "\n".join(parts)
