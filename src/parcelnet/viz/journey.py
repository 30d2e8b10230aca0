"""Journeys on the clock: one row per order, from its creation to its delivery, showing where
it is sorted, where it waits for a departure or a wave, and how it travels (truck, van, air).
Made from :func:`parcelnet.plan.explain.explain` (its replayed steps), so every minute drawn
is a minute of the promise semantics."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.patches import Patch

from parcelnet.files import atomic_path
from parcelnet.units import DAY, HOUR

#: Segment colours: processing, waiting, each mode, the delivery wave.
COLOURS = {"sort": "#f28e2b", "wait": "#d9d9d9", "truck": "#4e79a7", "van": "#76b7b2",
           "air": "#7b3294", "rail": "#9c755f", "wave": "#59a14f"}
LABELS = {"sort": "sorting", "wait": "waiting for a departure or wave", "truck": "truck",
          "van": "van", "air": "air", "rail": "rail", "wave": "delivery wave"}


def journey_segments(steps: Sequence[dict]) -> list[tuple[str, int, int, str]]:
    """``(kind, start, end, where)`` minutes (absolute) of the steps of an explanation:
    ``sort`` from arrival to ready, ``wait`` from ready to the departure (or the wave's
    start), a mode while travelling, ``wave`` from the wave's start to the delivery."""
    out = []
    prev_arrival = None
    for s in steps:
        if s["step"] == "created":
            out.append(("sort", s["minute"], s["ready"], s["at"]))
        elif s["step"] == "departure":
            if prev_arrival is not None:
                out.append(("sort", prev_arrival, s["ready"], s["at"]))
            out.append(("wait", s["ready"], s["departs"], s["at"]))
            out.append((s["mode"], s["departs"], s["arrives"], f"{s['at']}>{s['to']}"))
            prev_arrival = s["arrives"]
        elif s["step"] == "wave":
            if prev_arrival is not None:
                out.append(("sort", prev_arrival, s["ready"], s["at"]))
            out.append(("wait", s["ready"], s["wave_start"], s["at"]))
            out.append(("wave", s["wave_start"], s["delivered"], s["at"]))
    return [seg for seg in out if seg[2] > seg[1]]


def journey_figure(rows: Sequence[tuple[str, Sequence[dict]]], title: str) -> Figure:
    """One bar per ``(label, steps)``; hours since each order's creation on the x axis, with
    the clock of the first order on top and the 24-hour mark."""
    fig = Figure(figsize=(11, 0.55 * len(rows) + 1.9), dpi=110)
    ax = fig.add_axes((0.25, 0.18 + 0.4 / (len(rows) + 3), 0.72, 0.62))
    end = 24.0
    created0 = None
    for i, (label, steps) in enumerate(rows):
        y = len(rows) - 1 - i
        segs = journey_segments(steps)
        if not segs:
            ax.text(0.2, y, "unreachable", va="center", fontsize=9, color="#777777")
            ax.text(-0.01, y, label, transform=ax.get_yaxis_transform(), ha="right", va="center",
                    fontsize=9)
            continue
        t0 = steps[0]["minute"]
        created0 = t0 if created0 is None else created0
        for kind, a, b, where in segs:
            ax.barh(y, (b - a) / HOUR, left=(a - t0) / HOUR, height=0.55, color=COLOURS.get(kind, "#999999"),
                    edgecolor="white", linewidth=0.4)
            if kind in ("truck", "air", "van", "rail") and (b - a) >= 90:
                ax.text((a + b) / 2 / HOUR - t0 / HOUR, y, where.split(">")[1], ha="center",
                        va="center", fontsize=7, color="white")
        done = segs[-1][2]
        end = max(end, (done - t0) / HOUR)
        ax.text(-0.01, y, f"{label}  {(done - t0) / HOUR:.1f} h",
                transform=ax.get_yaxis_transform(), ha="right", va="center", fontsize=9)
    ax.axvline(24, color="#d62728", linestyle="--", linewidth=1)
    ax.text(24, len(rows) - 0.45, " 24 h", color="#d62728", fontsize=8, va="bottom")
    ax.set_xlim(0, end + 0.5)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_yticks([])
    ax.set_xlabel("hours since the order")
    step = 2 if end <= 36 else 4 if end <= 72 else 12
    ax.set_xticks(range(0, int(end) + 1, step))
    if created0 is not None:
        top = ax.secondary_xaxis("top")
        top.set_xticks(ax.get_xticks())
        top.set_xticklabels([_clock(created0 + int(h * HOUR)) for h in ax.get_xticks()], fontsize=7)
    for side in ("right", "left"):
        ax.spines[side].set_visible(False)
    fig.suptitle(title, fontsize=11, x=0.02, ha="left")
    kinds = ["sort", "wait", "van", "truck", "air", "wave"]
    fig.legend(handles=[Patch(color=COLOURS[k], label=LABELS[k]) for k in kinds], loc="lower center",
               ncol=len(kinds), fontsize=8, frameon=False)
    return fig


def _clock(minute: int) -> str:
    day, m = divmod(int(minute), DAY)
    return f"{m // 60:02d}:{m % 60:02d}" + (f"\n+{day}d" if day else "")


def write_journeys(rows: Sequence[tuple[str, Sequence[dict]]], title: str, path) -> Path:
    """The journey figure as a PNG at ``path`` (written atomically)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        journey_figure(rows, title).savefig(tmp, format="png", facecolor="white")
    return path
