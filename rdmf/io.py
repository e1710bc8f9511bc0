"""Atomic file writing: a reader never sees a half-written file, and a failure never damages
the previous version (write to a temporary file in the same folder, fsync, then rename)."""

from __future__ import annotations

import json
import math
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path`` atomically.

    On an exception the temporary file is removed and ``path`` is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    # mkstemp creates 0600; give the file the permissions a plain open() would (0666 & ~umask)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def _round_floats(obj: Any, ndigits: int | None) -> Any:
    if ndigits is None:
        return obj
    if isinstance(obj, float):
        return round(obj, ndigits) if math.isfinite(obj) else obj
    if isinstance(obj, dict):
        return {key: _round_floats(value, ndigits) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_round_floats(value, ndigits) for value in obj]
    return obj


def atomic_write_json(path: str | os.PathLike, obj: Any, *, ndigits: int | None = None,
                      indent: int | None = 2) -> Path:
    """Write ``obj`` as JSON atomically; floats rounded to ``ndigits`` when given (stable diffs)."""
    text = json.dumps(_round_floats(obj, ndigits), indent=indent, sort_keys=False)
    return atomic_write_text(path, text + "\n")


def atomic_write_jsonl(path: str | os.PathLike, rows: list[dict]) -> Path:
    text = "".join(json.dumps(row) + "\n" for row in rows)
    return atomic_write_text(path, text)


def _loads(text: str, where: str) -> Any:
    """``json.loads`` whose failures are a ``ValueError`` naming ``where``."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"{where}: malformed JSON (line {err.lineno}: {err.msg})") from None
    except RecursionError:
        raise ValueError(f"{where}: malformed JSON (nested too deeply)") from None


def _decode(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"{where}: not UTF-8 text (byte {err.start}: {err.reason})") from None


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file; a missing file, text that is not UTF-8 or malformed JSON is an error
    naming the file (and the line)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not found")
    return _loads(_decode(path.read_bytes(), str(path)), str(path))


def read_jsonl_numbered(path: str | os.PathLike) -> tuple[list[dict], list[int]]:
    """Rows of a jsonl file and the line number of each (blank lines skipped); a malformed line
    (not UTF-8, not JSON, not an object) is a ``ValueError`` naming the file and line number."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    rows, line_numbers = [], []
    with open(path, "rb") as handle:
        for line_no, raw in enumerate(handle, start=1):
            where = f"{path}, line {line_no}"
            line = _decode(raw, where)
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f"{where}: malformed JSON ({err.msg})") from None
            except RecursionError:
                raise ValueError(f"{where}: malformed JSON (nested too deeply)") from None
            if not isinstance(row, dict):
                raise ValueError(f"{where}: expected a JSON object, got {type(row).__name__}")
            rows.append(row)
            line_numbers.append(line_no)
    return rows, line_numbers


def read_jsonl(path: str | os.PathLike) -> list[dict]:
    """Read a jsonl file; a malformed line is a ``ValueError`` naming the file and line number."""
    return read_jsonl_numbered(path)[0]
