"""The notebooks as course material: learning objectives at the top, exercises at the end with
solutions that check themselves, references; the bibliography holds the works they cite."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_has_objectives_exercises_solutions_and_references(notebook: Path):
    cells = nbformat.read(notebook, as_version=4).cells
    markdown = [c.source for c in cells if c.cell_type == "markdown"]
    assert markdown[0].startswith("# "), "the first cell is the title"
    assert "**Learning objectives.**" in markdown[1], "objectives follow the title"
    i = next(i for i, c in enumerate(cells)
             if c.cell_type == "markdown" and re.match(r"## Exercises?\b", c.source))
    exercises = re.findall(r"^\d+\. \*\*", cells[i].source, flags=re.M) or ["one"]
    wanted = 3 if int(notebook.name[:2]) <= 4 else 1
    assert len(exercises) >= wanted, f"{len(exercises)} exercises, {wanted} wanted"
    solution = cells[i + 1]
    assert solution.cell_type == "code" and "hide-input" in solution.metadata.get("tags", [])
    parts = re.findall(r"^# \d\. .*?(?=^# \d\. |\Z)", solution.source, flags=re.M | re.S)
    assert len(parts) == (len(exercises) if wanted == 3 else len(parts))
    for part in parts or [solution.source]:   # every solution checks its result
        assert "assert " in part, part[:80]
    assert any(c.source.startswith("## References") for c in cells[i + 2:]
               if c.cell_type == "markdown")


def test_bibliography_holds_the_cited_works():
    bib = (REPO / "docs" / "references.bib").read_text()
    keys = set(re.findall(r"^@\w+\{([^,]+),", bib, flags=re.M))
    assert {"turing1952", "grayscott1983", "grayscott1984", "pearson1993", "murray2003",
            "lei2021momentdetr", "moon2023qddetr", "liu2022umt", "song2015tvsum",
            "sun2014youtube"} <= keys
