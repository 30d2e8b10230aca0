"""Terminal output helpers (rich): consoles, step progress, tables, clock times."""

from __future__ import annotations

import contextlib
import sys
import time

import pandas as pd
from rich.console import Console
from rich.table import Table

_console: Console | None = None


def console() -> Console:
    global _console
    if _console is None:
        _console = Console(highlight=False)
    return _console


def err_console() -> Console:
    return Console(stderr=True, highlight=False)


@contextlib.contextmanager
def steps(title: str, quiet: bool = False):
    """Yield a ``step(msg)`` callback that shows a spinner with the current step
    and elapsed time on stderr (nothing when quiet or not a terminal)."""
    con = err_console()
    t0 = time.perf_counter()
    if quiet or not sys.stderr.isatty():
        yield lambda msg: None
        return
    with con.status(f"{title}...") as status:
        yield lambda msg: status.update(f"{title}: {msg} ({time.perf_counter() - t0:.0f} s)")
    con.print(f"{title}: done in {time.perf_counter() - t0:.1f} s")


@contextlib.contextmanager
def progress_bar(title: str, total: int, quiet: bool = False):
    """Yield an ``advance()`` callback driving a rich progress bar on stderr."""
    if quiet:
        yield lambda n=1: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn, TimeRemainingColumn
    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=err_console(),
                  transient=False) as prog:
        task = prog.add_task(title, total=total)
        yield lambda n=1: prog.advance(task, n)


@contextlib.contextmanager
def staged_progress(quiet: bool = False):
    """Yield ``progress(stage, done, total)`` driving one rich bar per stage on stderr."""
    if quiet or not sys.stderr.isatty():
        yield lambda stage, done, total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err_console()) as prog:
        tasks: dict[str, int] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = prog.add_task(stage, total=total)
            prog.update(tasks[stage], completed=done, total=total)
        yield update


def clock(minute: int) -> str:
    """Absolute minute -> 'day D HH:MM'."""
    d, m = divmod(int(minute), 1440)
    return f"day {d} {m // 60:02d}:{m % 60:02d}"


def facility_table(df: pd.DataFrame, title: str) -> None:
    t = Table(title=title)
    cols = [c for c in ("facility_id", "kind", "tier", "name", "admin1", "lat", "lon") if c in df]
    for c in cols:
        t.add_column(c)
    for row in df[cols].itertuples(index=False):
        t.add_row(*map(str, row))
    console().print(t)
