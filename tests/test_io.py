"""Atomic writes: the old file survives a failure, permissions are those of a plain open()."""

from __future__ import annotations

import os
import stat

import pytest

from rdmf.io import atomic_path, atomic_write_json, atomic_write_text, read_jsonl


def test_failed_write_keeps_previous_version(tmp_path):
    target = tmp_path / "metrics.json"
    atomic_write_text(target, "old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash mid-write")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]  # no temp file left


def test_permissions_follow_umask(tmp_path):
    umask = os.umask(0o022)
    try:
        path = atomic_write_json(tmp_path / "a.json", {"x": 1.23456}, ndigits=2)
    finally:
        os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert path.read_text().strip().replace(" ", "").replace("\n", "") == '{"x":1.23}'


def test_read_jsonl_names_file_and_line(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"qid": 1}\n\n{"qid": 2\n')
    with pytest.raises(ValueError, match=r"rows.jsonl, line 3: malformed JSON"):
        read_jsonl(path)
    path.write_text('[1, 2]\n')
    with pytest.raises(ValueError, match=r"line 1: expected a JSON object"):
        read_jsonl(path)
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_jsonl(tmp_path / "missing.jsonl")


def test_cli_warnings_are_one_line(capsys):
    import warnings

    from rdmf.cli import show_warning

    with warnings.catch_warnings():
        warnings.showwarning = show_warning
        warnings.simplefilter("always")
        warnings.warn("3 ids skipped (without annotation)", UserWarning)
    err = capsys.readouterr().err
    assert err == "rdmf: warning: 3 ids skipped (without annotation)\n"
