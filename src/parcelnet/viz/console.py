"""The terminal: rich consoles, and the Progress protocol rendered as progress bars on stderr."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator

from rich.console import Console

from parcelnet.progress import NoProgress

_console: Console | None = None


def console() -> Console:
    """Standard output (results)."""
    global _console
    if _console is None:
        _console = Console(highlight=False)
    return _console


def err_console() -> Console:
    """Standard error (progress, warnings)."""
    return Console(stderr=True, highlight=False)


class BarProgress:
    """:class:`parcelnet.progress.Progress` as rich progress bars on stderr: one bar per stage
    (a pulsing bar with the elapsed time when the total is unknown), each left on screen with
    its time when done."""

    def __init__(self, prog):
        self._prog = prog
        self._task = None
        self._stage: str | None = None

    def start(self, stage: str, total: int | None = None) -> None:
        self.finish()
        self._stage = stage
        self._task = self._prog.add_task(stage, total=total)

    def advance(self, n: int = 1) -> None:
        if self._task is not None:
            self._prog.advance(self._task, n)

    def finish(self) -> None:
        if self._task is not None:
            total = next((t.total for t in self._prog.tasks if t.id == self._task), None)
            if total is None:
                self._prog.update(self._task, total=1, completed=1)
            else:
                self._prog.update(self._task, completed=total)
            self._task = None


@contextlib.contextmanager
def progress_bars(quiet: bool = False) -> Iterator:
    """Yield a Progress that draws bars on stderr, or reports nothing when ``quiet`` or when
    stderr is not a terminal (logs and pipes stay clean)."""
    if quiet or not sys.stderr.isatty():
        yield NoProgress()
        return
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)
    with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                  console=err_console(), transient=False) as prog:
        bar = BarProgress(prog)
        try:
            yield bar
        finally:
            bar.finish()


@contextlib.contextmanager
def timed(title: str, quiet: bool = False) -> Iterator:
    """Yield a Progress shown as one spinner line with the current stage and elapsed time, and
    a closing "done in N s" (for work made of a few stages of unknown length)."""
    con = err_console()
    t0 = time.perf_counter()
    if quiet or not sys.stderr.isatty():
        yield NoProgress()
        return

    class _Status:
        def __init__(self, status):
            self.status = status

        def start(self, stage: str, total: int | None = None) -> None:
            self.status.update(f"{title}: {stage} ({time.perf_counter() - t0:.0f} s)")

        def advance(self, n: int = 1) -> None:
            pass

        def finish(self) -> None:
            pass

    with con.status(f"{title}...") as status:
        yield _Status(status)
    con.print(f"{title}: done in {time.perf_counter() - t0:.1f} s")
