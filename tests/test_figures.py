"""The figure helper: saved PNGs are byte-identical across re-runs, and inside a Jupyter kernel the
saved figure is also shown inline (once, with no text repr); the stored notebooks show figures."""

from __future__ import annotations

import base64
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import pytest

from rdmf import figures

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _figure():
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1, 2], [0, 1, 4], label="q²")
    ax.legend()
    return fig


@pytest.fixture
def kernel_shell():
    """An IPython shell that looks like a kernel's (it has a ``kernel``), as in Jupyter/papermill."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.kernel = object()
    try:
        yield shell
    finally:
        del shell.kernel
        InteractiveShell.clear_instance()


def test_figure_bytes_are_identical_on_rerun():
    first = figures.figure_bytes(_figure())
    again = figures.figure_bytes(_figure())
    assert first == again and first.startswith(b"\x89PNG")
    plt.close("all")


def test_no_display_outside_a_kernel(tmp_path, monkeypatch):
    monkeypatch.setattr(figures, "reports_dir", lambda profile: tmp_path / profile)
    fig = _figure()
    path = figures.save_figure(fig, "plain", "ci")
    assert path.read_bytes().startswith(b"\x89PNG")
    assert not figures._in_kernel()
    assert plt.fignum_exists(fig.number)  # a script keeps its figure unless close=True
    plt.close(fig)


def test_save_figure_in_a_kernel_displays_the_saved_png_once(tmp_path, monkeypatch, kernel_shell):
    from IPython.utils.capture import capture_output

    monkeypatch.setattr(figures, "reports_dir", lambda profile: tmp_path / profile)
    fig = _figure()
    with capture_output() as captured:
        path = figures.save_figure(fig, "inline", "ci")
    assert len(captured.outputs) == 1
    data = captured.outputs[0].data
    assert set(data) == {"image/png"}  # no "<Figure size ...>" text next to the image
    assert base64.b64decode(data["image/png"]) == path.read_bytes()
    assert not plt.fignum_exists(fig.number)  # closed: the inline backend cannot show it again


def test_show_figure_in_a_kernel_displays_without_saving(tmp_path, monkeypatch, kernel_shell):
    from IPython.utils.capture import capture_output

    monkeypatch.setattr(figures, "reports_dir", lambda profile: tmp_path / profile)
    with capture_output() as captured:
        png = figures.show_figure(_figure())
    assert [set(o.data) for o in captured.outputs] == [{"image/png"}]
    assert base64.b64decode(captured.outputs[0].data["image/png"]) == png
    assert not list(tmp_path.rglob("*.png"))


def test_data_ylim_holds_every_curve():
    lo, hi = figures.data_ylim([[0.0, 1.0], [-3.0, 0.5]], margin=0.1)
    assert (lo, hi) == (-3.4, 1.4)


def test_scheme_colours_are_distinct():
    assert len(set(figures.SCHEME_COLORS.values())) == len(figures.SCHEME_COLORS)
    assert set(figures.SCHEME_COLORS) == set(figures.SCHEME_LINESTYLES)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_notebook_shows_its_figures(notebook: Path):
    nb = nbformat.read(notebook, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, f"{notebook.name} stores no figure: re-run it with `rdmf reproduce --update-notebooks`"
    reprs = [o for o in outputs if "<Figure size" in str(o.get("data", {}).get("text/plain", ""))]
    assert not reprs, f"{notebook.name} stores a `<Figure size ...>` repr"
