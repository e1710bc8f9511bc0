"""The notebooks are the source: each ``notebooks/NN_*.ipynb`` is paired with a jupytext
percent-format script ``NN_*.py`` (``jupytext.toml``), and the two must hold the same cells."""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _cells(nb) -> list[tuple[str, str, list]]:
    return [(cell.cell_type, cell.source.strip(), list(cell.metadata.get("tags", [])))
            for cell in nb.cells]


def test_every_notebook_is_found():
    assert len(NOTEBOOKS) == 8


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_and_script_hold_the_same_cells(notebook: Path):
    script = notebook.with_suffix(".py")
    assert script.is_file(), f"{script.name} is missing: run `jupytext --sync {notebook.name}`"
    stored = nbformat.read(notebook, as_version=4)
    assert stored.metadata.get("jupytext", {}).get("formats") == "ipynb,py:percent", \
        f"{notebook.name} is not paired: run `jupytext --set-formats ipynb,py:percent {notebook.name}`"
    paired = jupytext.read(script)
    mismatch = [i for i, (a, b) in enumerate(zip(_cells(stored), _cells(paired))) if a != b]
    assert len(stored.cells) == len(paired.cells) and not mismatch, (
        f"{notebook.name} and {script.name} differ (cells {mismatch[:5]}, "
        f"{len(stored.cells)} vs {len(paired.cells)} cells): run `jupytext --sync {notebook.name}`")


def test_a_changed_script_is_detected(tmp_path: Path):
    """The check above can fail: an edit to the script alone makes the pair differ."""
    notebook = NOTEBOOKS[0]
    script = tmp_path / notebook.with_suffix(".py").name
    script.write_text(notebook.with_suffix(".py").read_text() + "\n# %%\nprint('edited')\n")
    assert _cells(nbformat.read(notebook, as_version=4)) != _cells(jupytext.read(script))
