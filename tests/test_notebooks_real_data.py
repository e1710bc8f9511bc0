"""The real-data sections of the notebooks. nbval re-runs every notebook as a newcomer's clone
would (no data root: their stored outputs say the real-data sections were skipped), so the
sections that read TVSum, YouTube Highlights and the QVHighlights annotations are executed here,
with the data root, under the ``ci`` profile."""

from __future__ import annotations

import os

import nbformat
import pytest

from rdmf import reproduce as rp


def _text(nb) -> str:
    return "".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                   for out in cell.get("outputs", []))


@pytest.mark.realdata
@pytest.mark.slow
def test_real_data_sections_run_with_the_data_root(real_data_root):
    before = dict(os.environ)
    results = rp.reproduce("ci", only=["05", "07"], data_root=str(real_data_root), progress=False)
    assert [r.name for r in results] == ["05_data", "07_benchmarks"]
    data, bench = (_text(nbformat.read(r.output, as_version=4)) for r in results)
    assert "real data root: set" in data and "skipped" not in data.split("\n")[0]
    assert "TVSum (all domains, train): 40 videos" in data
    assert "YouTube (all domains, val)" in data
    assert "real data root: set" in bench and "no real data root" not in bench
    assert "gap of each row's average to the best published average" in bench  # the TVSum table
    # the data root went to the kernels only: the notebooks nbval runs next still see a
    # newcomer's environment
    assert dict(os.environ) == before
