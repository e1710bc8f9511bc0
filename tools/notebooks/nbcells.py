"""Shared helpers of the notebook generators ``make_NN.py``: cells and writing.

A generator defines ``CELLS`` and calls ``write_notebook(CELLS, "NN_name.ipynb")``; then
``rdmf reproduce --profile ci --only NN --update-notebooks`` executes it and stores the outputs.
"""

from __future__ import annotations

from pathlib import Path

import nbformat as nbf

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def md(text: str) -> nbf.NotebookNode:
    return nbf.v4.new_markdown_cell(text.strip())


def code(text: str, tags=()) -> nbf.NotebookNode:
    cell = nbf.v4.new_code_cell(text.strip())
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def build(cells: list) -> nbf.NotebookNode:
    nb = nbf.v4.new_notebook()
    nb.cells = cells
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def write_notebook(cells: list, name: str) -> Path:
    path = NOTEBOOKS / name
    path.parent.mkdir(exist_ok=True)
    nbf.write(build(cells), path)
    print(f"wrote {path}")
    return path
