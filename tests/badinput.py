"""Helpers for the bad-input tests: run a command in-process, check that it failed with one line
naming the file (or option) and the field, and that no file that existed before was changed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from rdmf.cli import main


def snapshot(*roots: Path) -> dict[str, str]:
    """Content hash of every file under ``roots`` (path -> sha256)."""
    hashes = {}
    for root in roots:
        root = Path(root)
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            hashes[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


def assert_unchanged(before: dict[str, str], *roots: Path) -> None:
    """Every file in ``before`` still exists with the same content (new files are allowed)."""
    after = snapshot(*roots)
    removed = sorted(set(before) - set(after))
    changed = sorted(p for p in before if p in after and after[p] != before[p])
    assert not removed and not changed, f"removed {removed}, changed {changed}"


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def run(argv: list[str], capsys) -> Outcome:
    """``rdmf ARGV`` in-process; argparse's own exits are caught and reported as a code."""
    capsys.readouterr()
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 2
    out, err = capsys.readouterr()
    return Outcome(code, out, err)


def assert_one_line_error(outcome: Outcome, *mentions: str) -> None:
    """Exit 2 and exactly one stderr line (no traceback) that mentions every string given."""
    assert outcome.code == 2, f"exit {outcome.code}, stderr: {outcome.stderr!r}"
    lines = [line for line in outcome.error_lines if "warning" not in line.lower()]
    assert len(lines) == 1, f"expected one error line, got {lines}"
    assert "Traceback" not in outcome.stderr
    for text in mentions:
        assert text in lines[0], f"{text!r} not in {lines[0]!r}"


def assert_one_warning(outcome: Outcome, *mentions: str) -> None:
    """Exit 0 and exactly one warning line mentioning every string given."""
    assert outcome.code == 0, f"exit {outcome.code}, stderr: {outcome.stderr!r}"
    warnings = [line for line in outcome.error_lines if "warning" in line.lower()]
    assert len(warnings) == 1, f"expected one warning line, got {outcome.error_lines}"
    for text in mentions:
        assert text in warnings[0], f"{text!r} not in {warnings[0]!r}"
