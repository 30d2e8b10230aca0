"""The ``parcelnet`` command: thin commands over the library, one module per domain.

Each module defines its commands' parsers beside their handlers (``register``); a handler
parses its options, calls library functions and renders their results. Exit codes live here:

- 0: done;
- 1: nothing found (``parcelnet find``);
- 2: bad input or usage: one line on stderr, ``parcelnet: error: ...``, never a traceback;
- 3: an internal error (a bug): one line too; set ``PARCELNET_DEBUG=1`` for the traceback;
- 130: interrupted (Ctrl-C).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from importlib.metadata import entry_points

from parcelnet import __version__
from parcelnet.cli import demo, inventory, lastmile, network, o2o, plan, promise, sensing, sim, sweep
from parcelnet.cli._common import Parser, one_line, setup_logging
from parcelnet.errors import ParcelnetError

EXIT_OK, EXIT_NOT_FOUND, EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
DESCRIPTION = ("parcelnet: nationwide parcel networks on real geography. Build a network, promise "
               "delivery times, show 24-hour coverage, simulate every parcel of a day, design hubs, "
               "service and capacity, and plan the last mile. Minutes are absolute: 0 is midnight "
               "at the start of day 0.")


def parser() -> Parser:
    p = Parser(prog="parcelnet", description=DESCRIPTION)
    p.add_argument("--version", action="version", version=f"parcelnet {__version__}",
                   help="print the version and exit")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    for module in (network, promise, sim, sweep, plan, inventory, sensing, lastmile, o2o, demo):
        module.register(sub)
    # commands of packages beside the library (the operations service: serve, db, admin),
    # found by entry point so that parcelnet never imports them
    for ep in sorted(entry_points(group="parcelnet.cli"), key=lambda e: e.name):
        ep.load()(sub)
    return p


def _terminated(signum, frame):
    """SIGTERM (a kill, a job's time limit) ends the command like Ctrl-C: writes in progress are
    undone (no temporary files are left) and the exit code is 128 + the signal."""
    raise SystemExit(128 + signum)


def _redelivering(hook):
    """An unraisable-exception hook that delivers a swallowed interrupt again.

    A signal's handler runs at whatever Python code the main thread is in. When that is a
    ctypes callback (numba's LLVM object cache calls one while it compiles) or a ``__del__``,
    Python cannot raise there: it prints "Exception ignored" and goes on, and a killed run
    would finish as if nothing had happened. So the same signal is sent again, from a helper
    thread once this hook has returned, and lands at the next point where it can be raised."""
    def unraisable(u):
        exc = u.exc_value
        if isinstance(exc, SystemExit) and exc.code == 128 + signal.SIGTERM:
            signum = signal.SIGTERM
        elif isinstance(exc, KeyboardInterrupt):
            signum = signal.SIGINT
        else:
            return hook(u)
        returned = threading.Event()

        def send_again():
            returned.wait()
            time.sleep(0.01)          # past this hook's last bytecodes too
            os.kill(os.getpid(), signum)
        try:
            threading.Thread(target=send_again, daemon=True).start()
        finally:
            returned.set()
    return unraisable


@contextlib.contextmanager
def _interruptible():
    """SIGTERM raises SystemExit(143) in the main thread, and an interrupt swallowed where it
    landed is delivered again (see :func:`_redelivering`). Elsewhere: nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous, hook = signal.signal(signal.SIGTERM, _terminated), sys.unraisablehook
    sys.unraisablehook = _redelivering(hook)
    try:
        yield
    finally:
        sys.unraisablehook = hook
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    setup_logging(quiet=bool(getattr(args, "json", False)))
    with _interruptible():
        return _run(args)


def _run(args) -> int:
    try:
        return args.func(args)
    except ParcelnetError as e:
        print(f"parcelnet: error: {one_line(str(e))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as e:
        what = e.filename if e.filename not in (None, "") else "output"
        print(f"parcelnet: error: {one_line(f'{what}: {e.strerror or e}')}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("parcelnet: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as e:          # a bug: still one line, unless asked for the traceback
        if os.environ.get("PARCELNET_DEBUG"):
            raise
        print(f"parcelnet: error: internal error ({type(e).__name__}: {one_line(str(e))}); "
              "please report it with the command that caused it (PARCELNET_DEBUG=1 shows the "
              "traceback)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
