"""The docs describe what exists: every build parameter is documented, CI runs the README's
test command verbatim, and the README's Quickstart has exactly two commands."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _quickstart_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return [b.strip() for b in re.findall(r"```bash\n(.*?)```", section, re.S)]


def test_quickstart_has_two_commands_and_ci_runs_the_test_one():
    cmds = _quickstart_commands()
    assert len(cmds) == 2 and all("\n" not in c for c in cmds)
    assert "parcelnet demo" in cmds[0] and "pytest" in cmds[1]
    assert cmds[1] in (ROOT / ".ci" / "run").read_text().splitlines()


def test_every_build_parameter_is_documented():
    raw = tomllib.loads((ROOT / "src/parcelnet/network/defaults.toml").read_text())
    raw.pop("country")
    doc = (ROOT / "docs/network.md").read_text()
    missing = [f"{s}.{k}" for s, kv in raw.items() for k in kv if f"{s}.{k}" not in doc
               and f"`{k}`" not in doc]
    assert not missing, missing
