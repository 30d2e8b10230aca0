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


def _titles(doc: Path) -> list[str]:
    """A doc's headings and bold lead-ins: what a reference ``docs/X.md, "Title"`` names."""
    text = doc.read_text()
    return [m.strip() for m in re.findall(r"^#+ (.*)$", text, re.M)
            + re.findall(r"\*\*([^*]+)\*\*", text)]


def test_every_reference_to_a_docs_section_resolves():
    """``docs/X.md, "Title"`` in the docs, the README and the code names a heading or a bold
    lead-in of X that begins with Title (docs move; their references must move with them)."""
    files = [*ROOT.glob("docs/*.md"), ROOT / "README.md", *ROOT.glob("src/**/*.py"),
             *ROOT.glob("benchmarks/*.py"),
             *(p for p in ROOT.glob("tests/**/*.py") if p.name != "test_docs.py")]
    ref = re.compile(r'docs/([\w-]+\.md)[,\s]*\(?[,\s]*\\?"([^"\\]+)\\?"')   # \" in strings
    titles: dict[str, list[str]] = {}
    broken = []
    for path in files:
        for doc, title in ref.findall(re.sub(r"\s+", " ", path.read_text())):
            if doc not in titles:
                target = ROOT / "docs" / doc
                titles[doc] = _titles(target) if target.exists() else []
            if not any(t.startswith(title.rstrip(".")) for t in titles[doc]):
                broken.append(f"{path.relative_to(ROOT)}: docs/{doc}, {title!r}")
    assert not broken, "\n".join(broken)
