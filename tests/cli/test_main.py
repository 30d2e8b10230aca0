"""The command as a whole: help for every command and option, one-line errors with their exit
codes (usage, bad input, internal errors), SIGTERM undoing writes in progress."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time

import pytest

from parcelnet.cli import EXIT_BAD_INPUT, EXIT_INTERNAL, main, parser
from tests.conftest import FIXTURES, assert_one_line_error

TINY = FIXTURES / "tiny"


def _parsers(p: argparse.ArgumentParser, path=("parcelnet",)):
    yield path, p
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, path + (name,))


def test_every_command_and_option_has_a_help_line():
    missing = []
    for path, p in _parsers(parser()):
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                helps = {a.dest: a.help for a in action._choices_actions}
                missing += [f"{' '.join(path)} {name}" for name in action.choices if not helps.get(name)]
            elif not action.help:
                missing.append(f"{' '.join(path)} {'/'.join(action.option_strings) or action.dest}")
    assert not missing, missing


def test_the_top_level_help_reads_as_plain_text(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "``" not in out and ":func:" not in out and "parcelnet" in out
    for command in ("build", "promise", "coverage", "simulate", "plan", "lastmile", "o2o", "demo"):
        assert command in out


def test_a_usage_error_is_one_line(capsys):
    with pytest.raises(SystemExit) as e:
        main(["promise", str(TINY), "--at", "soon"])
    assert e.value.code == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert_one_line_error(err, "--at", "'soon' is not an integer minute", "parcelnet promise --help")
    with pytest.raises(SystemExit):
        main(["no-such-command"])
    assert_one_line_error(capsys.readouterr().err, "no-such-command")


def test_an_internal_error_is_one_line_with_its_own_exit_code(capsys, monkeypatch):
    import parcelnet.cli.network as cmd

    def broken(a):
        raise ZeroDivisionError("a bug")
    monkeypatch.setattr(cmd, "validate", broken)
    code = main(["validate", str(TINY)])     # the parser binds the handler when it is built
    err = capsys.readouterr().err
    assert code == EXIT_INTERNAL
    assert_one_line_error(err, "internal error", "ZeroDivisionError: a bug", "PARCELNET_DEBUG")
    monkeypatch.setenv("PARCELNET_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        main(["validate", str(TINY)])


def test_sigterm_leaves_no_temporary_file(tmp_path):
    """A killed run of 'parcelnet demand' removes the file it was writing, as Ctrl-C does."""
    out = tmp_path / "day.parquet"
    proc = subprocess.Popen([sys.executable, "-m", "parcelnet.cli", "demand", str(TINY),
                             "--parcels", "300000000", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not any(p.name.endswith(".tmp") for p in tmp_path.iterdir()):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 128 + signal.SIGTERM
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("where", ["ctypes callback", "__del__"])
def test_a_sigterm_swallowed_where_it_landed_is_delivered_again(where, capsys):
    """The handler's SystemExit cannot propagate out of a ctypes callback (numba's LLVM object
    cache calls one while it compiles; CI saw a killed run finish with exit code 0) or a
    __del__: the command sends itself the signal again, and it lands in plain code."""
    import ctypes
    import os

    from parcelnet.cli import _interruptible

    def landing():
        os.kill(os.getpid(), signal.SIGTERM)     # handled at the next bytecode: in here
        sum(range(10))

    class Finalised:
        def __del__(self):
            landing()

    before = signal.getsignal(signal.SIGTERM), sys.unraisablehook
    with pytest.raises(SystemExit) as exc, _interruptible():
        if where == "ctypes callback":
            ctypes.CFUNCTYPE(None)(landing)()
        else:
            Finalised()
        reached = True                              # the swallowed exit did not stop us ...
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:         # ... but the signal sent again does
            time.sleep(0.01)
    assert reached and exc.value.code == 128 + signal.SIGTERM
    assert "Exception ignored" not in capsys.readouterr().err
    assert (signal.getsignal(signal.SIGTERM), sys.unraisablehook) == before    # put back
