"""One progress protocol for every long operation.

Compute functions take ``progress: Progress | None`` and report through it: ``start(stage,
total)`` opens a stage (a new bar; ``total`` None when unknown), ``advance(n)`` moves it, and
``finish()`` closes it. They never print. Front ends render it: the CLI as rich progress bars
on stderr (:class:`parcelnet.viz.console.BarProgress`), a web service as job status, tests as a
list of events (:class:`RecordingProgress`). It works like PyVRP's search callbacks.

Diagnostics that are not progress (a value that is legal but probably not meant, a fallback
taken) go to ``logging.getLogger("parcelnet")``.
"""

from __future__ import annotations

import logging
from typing import Protocol, runtime_checkable

#: The package's logger; front ends decide where its records go.
log = logging.getLogger("parcelnet")


@runtime_checkable
class Progress(Protocol):
    """What a long operation reports to."""

    def start(self, stage: str, total: int | None = None) -> None:
        """A stage begins (``total`` units of work, None when unknown); a stage still open
        ends first."""

    def advance(self, n: int = 1) -> None:
        """``n`` more units of the current stage are done."""

    def finish(self) -> None:
        """The current stage is done."""


class NoProgress:
    """Reports nothing (the default)."""

    def start(self, stage: str, total: int | None = None) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def finish(self) -> None:
        pass


NO_PROGRESS = NoProgress()


def or_none(progress: Progress | None) -> Progress:
    """``progress``, or the one that reports nothing."""
    return NO_PROGRESS if progress is None else progress


class Counter:
    """A stage of ``progress`` fed with running totals: ``counter(done)`` advances by what is
    new since the last call (for loops that know how far they are, not how much they did)."""

    def __init__(self, progress: Progress | None, stage: str, total: int | None = None):
        self.progress = or_none(progress)
        self.done = 0
        self.progress.start(stage, total)

    def __call__(self, done: int) -> None:
        done = int(done)
        if done > self.done:
            self.progress.advance(done - self.done)
            self.done = done

    def finish(self) -> None:
        self.progress.finish()


class RecordingProgress:
    """Keeps every call as ``(event, stage, value)``; for tests and job logs."""

    def __init__(self):
        self.events: list[tuple[str, str | None, int | None]] = []
        self.stage: str | None = None

    def start(self, stage: str, total: int | None = None) -> None:
        self.stage = stage
        self.events.append(("start", stage, total))

    def advance(self, n: int = 1) -> None:
        self.events.append(("advance", self.stage, n))

    def finish(self) -> None:
        self.events.append(("finish", self.stage, None))

    def stages(self) -> list[str]:
        return [s for e, s, _ in self.events if e == "start"]

    def done(self, stage: str) -> int:
        return sum(v for e, s, v in self.events if e == "advance" and s == stage)
