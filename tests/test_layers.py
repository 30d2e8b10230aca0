"""The layers of docs/design.md hold: import-linter checks the contracts of pyproject.toml
(every import counts, those inside functions too)."""

from __future__ import annotations

from pathlib import Path

import pytest

cli = pytest.importorskip("importlinter.cli")

ROOT = Path(__file__).resolve().parents[1]


def test_the_contracts_of_pyproject_hold(capsys):
    status = cli.lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True)
    report = capsys.readouterr().out
    assert status == cli.EXIT_STATUS_SUCCESS, report
    assert "BROKEN" not in report and report.count("KEPT") >= 3


def test_a_layer_order_that_the_code_breaks_is_caught(tmp_path, capsys):
    """The check can fail: with network placed above plan, plan's imports of network break it."""
    cfg = tmp_path / "layers.toml"
    cfg.write_text('[tool.importlinter]\nroot_package = "parcelnet"\n\n'
                   '[[tool.importlinter.contracts]]\nname = "upside down"\ntype = "layers"\n'
                   'layers = ["parcelnet.network", "parcelnet.plan"]\n')
    status = cli.lint_imports(config_filename=str(cfg), no_cache=True, no_logo=True)
    assert status == cli.EXIT_STATUS_ERROR
    assert "BROKEN" in capsys.readouterr().out


def test_the_service_is_seen_by_the_linter(tmp_path, capsys):
    """The check that parcelnet never imports the service can fail: the reverse contract
    (the service must not import parcelnet) is broken, as the service does import it."""
    cfg = tmp_path / "service.toml"
    cfg.write_text('[tool.importlinter]\nroot_packages = ["parcelnet", "parcelnet_service"]\n\n'
                   '[[tool.importlinter.contracts]]\nname = "reversed"\ntype = "forbidden"\n'
                   'source_modules = ["parcelnet_service"]\nforbidden_modules = ["parcelnet"]\n')
    status = cli.lint_imports(config_filename=str(cfg), no_cache=True, no_logo=True)
    assert status == cli.EXIT_STATUS_ERROR
    assert "BROKEN" in capsys.readouterr().out
