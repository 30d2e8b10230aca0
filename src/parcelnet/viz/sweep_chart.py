"""The sweep's comparison chart (``parcelnet sweep``): per scenario, the on-time and 24 h
shares (bars at the mean over the seeds, whiskers from the least to the most) and the late
parcels, as a PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from parcelnet.files import atomic_path


def render_sweep_chart(table: pd.DataFrame, path: str | Path) -> Path:
    """Draw ``compare()``'s table to ``path`` (PNG)."""
    n = len(table)
    fig = Figure(figsize=(11, 1.6 + 0.45 * max(n, 1)), dpi=110)
    FigureCanvasAgg(fig)
    ax, ax2 = fig.subplots(1, 2, sharey=True, gridspec_kw={"width_ratios": [2, 1]})
    y = np.arange(n)[::-1]
    h = 0.38
    for off, key, label, colour in ((h / 2, "on_time_share", "on time (promise kept)", "#2b8cbe"),
                                    (-h / 2, "within_24h_share", "within 24 h", "#7bccc4")):
        mean = table[f"{key}_mean"].to_numpy(float)
        lo = mean - table[f"{key}_min"].to_numpy(float)
        hi = table[f"{key}_max"].to_numpy(float) - mean
        ax.barh(y + off, mean, height=h, color=colour, label=label,
                xerr=np.vstack([lo, hi]), error_kw={"ecolor": "#444", "capsize": 3, "lw": 1})
        for yy, m in zip(y + off, mean):
            ax.text(m + 0.005, yy, f"{m:.1%}", va="center", fontsize=8)
    ax.set_xlim(0, 1.08)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_yticks(y, table["scenario"].astype(str))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=2, fontsize=8, frameon=False)
    ax.set_title("share of parcels (bars: mean over seeds; whiskers: least to most)", fontsize=9)
    late = table["late_mean"].to_numpy(float)
    ax2.barh(y, late, height=0.6, color="#e34a33",
             xerr=np.vstack([late - table["late_min"].to_numpy(float),
                             table["late_max"].to_numpy(float) - late]),
             error_kw={"ecolor": "#444", "capsize": 3, "lw": 1})
    for yy, v in zip(y, late):
        ax2.text(v, yy, f" {v:,.0f}", va="center", fontsize=8)
    ax2.set_title("late parcels (after the promise, or never)", fontsize=9)
    ax2.set_xlim(0, max(1.0, float(table["late_max"].max()) * 1.25) if n else 1.0)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return Path(path)
