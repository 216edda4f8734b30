"""The README's tables render as tables (a blank line inside one splits it in two)."""

from pathlib import Path

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def section(title: str) -> list[str]:
    lines = README.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0].splitlines()
    return lines


def test_commands_table_is_one_table():
    lines = section("Commands")
    rows = [i for i, line in enumerate(lines) if line.startswith("|")]
    assert rows == list(range(rows[0], rows[-1] + 1)), "a blank or other line inside the commands table"
    assert lines[rows[0] + 1].startswith("| ---")
    assert sum(1 for i in rows if lines[i].startswith("| ---")) == 1
    for command in ("incidents", "db current", "db downgrade REV", "--version"):
        assert any(f"python -m bot {command}" in lines[i] for i in rows), command
