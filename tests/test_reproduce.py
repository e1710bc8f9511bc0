"""The papermill runner: order, profiles, parameter checks, failures that name the cell,
and source notebooks that are never overwritten by a failed run."""

from __future__ import annotations

import json

import nbformat
import pytest

from rdmf import reproduce as rp
from rdmf.commands.reproduce import parse_parameters


def _notebook(path, body: str, extra_params: str = ""):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('profile = "ci"' + extra_params)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    books, reports = tmp_path / "notebooks", tmp_path / "reports"
    books.mkdir()
    monkeypatch.setattr(rp, "notebooks_dir", lambda: books)
    monkeypatch.setattr(rp, "reports_dir", lambda profile: reports / profile)
    return books, reports


def test_runs_in_order_per_profile_and_strips_volatile_metadata(sandbox):
    books, reports = sandbox
    _notebook(books / "02_b.ipynb", "print('b', profile)")
    _notebook(books / "01_a.ipynb", "print('a', profile)")
    results = rp.reproduce("default", progress=False)
    assert [r.name for r in results] == ["01_a", "02_b"]
    out = nbformat.read(reports / "default" / "notebooks" / "02_b.ipynb", as_version=4)
    assert "papermill" not in out.metadata
    injected = [c for c in out.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert [c.id for c in injected] == ["injected-parameters"]  # no random id: stable bytes
    texts = "".join(o.get("text", "") for c in out.cells if c.cell_type == "code"
                    for o in c.get("outputs", []))
    assert "b default" in texts
    summary = json.loads((reports / "default" / rp.TIMINGS).read_text())
    assert [n["name"] for n in summary["notebooks"]] == ["01_a", "02_b"]
    assert not (reports / "ci").exists()  # profiles never write into each other
    rp.reproduce("default", only=["02"], progress=False)  # a subset keeps the other entries
    summary = json.loads((reports / "default" / rp.TIMINGS).read_text())
    assert [n["name"] for n in summary["notebooks"]] == ["01_a", "02_b"]


def test_unknown_parameter_is_rejected_before_running(sandbox):
    books, reports = sandbox
    _notebook(books / "01_a.ipynb", "print(1)", extra_params="\nepochs = 3")
    with pytest.raises(ValueError, match=r"01_a.ipynb does not accept parameter\(s\) \['lr'\]"):
        rp.reproduce("ci", parameters={"lr": 0.1}, progress=False)
    assert not reports.exists()


def test_failure_names_notebook_and_cell_and_keeps_source(sandbox):
    books, reports = sandbox
    src = _notebook(books / "01_bad.ipynb", "raise RuntimeError('boom')")
    _notebook(books / "02_never.ipynb", "print('never')")
    before = src.read_bytes()
    with pytest.raises(rp.NotebookFailed, match=r"01_bad.ipynb failed at cell 1: RuntimeError: boom"):
        rp.reproduce("ci", update_sources=True, progress=False)
    assert src.read_bytes() == before
    assert (reports / "ci" / "notebooks" / "01_bad.failed.ipynb").exists()
    assert not (reports / "ci" / "notebooks" / "02_never.ipynb").exists()


def test_update_sources_only_for_ci_and_profile_validated(sandbox):
    books, _ = sandbox
    _notebook(books / "01_a.ipynb", "print(1)")
    with pytest.raises(ValueError, match="--profile ci"):
        rp.reproduce("default", update_sources=True, progress=False)
    with pytest.raises(ValueError, match="unknown profile 'fast'"):
        rp.reproduce("fast", progress=False)
    with pytest.raises(ValueError, match="no notebook matches"):
        rp.reproduce("ci", only=["07"], progress=False)


def test_parse_parameters():
    assert parse_parameters(["epochs=3", "lr=1e-3", "name=abc", "flag=true"]) == {
        "epochs": 3, "lr": 1e-3, "name": "abc", "flag": True}
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_parameters(["epochs"])


def test_relative_data_root_is_resolved_from_the_callers_directory(sandbox, tmp_path, monkeypatch):
    books, reports = sandbox
    (tmp_path / "root").mkdir()
    _notebook(books / "01_a.ipynb", "import os; print(os.path.isdir(os.environ['RDMF_DATA_ROOT']))")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RDMF_DATA_ROOT", "root")
    rp.reproduce("ci", progress=False)
    out = nbformat.read(reports / "ci" / "notebooks" / "01_a.ipynb", as_version=4)
    assert out.cells[1].outputs[0]["text"].strip() == "True"


def test_split_stream_outputs_are_joined():
    stream = lambda name, text: nbformat.v4.new_output("stream", name=name, text=text)  # noqa: E731
    outputs = [stream("stdout", "a\n"), stream("stdout", "b\n"), stream("stderr", "w\n"),
               stream("stdout", "c\n")]
    merged = rp.merge_streams(outputs)
    assert [(o.name, o.text) for o in merged] == [("stdout", "a\nb\n"), ("stderr", "w\n"),
                                                  ("stdout", "c\n")]


def test_without_data_the_real_data_copy_is_kept(sandbox, monkeypatch):
    """A run without a data root leaves the executed copy of a notebook that reads the real data
    as it is, and puts its own copy in the git-ignored ``without_data`` folder."""
    books, reports = sandbox
    monkeypatch.delenv("RDMF_DATA_ROOT", raising=False)
    src = _notebook(books / "01_real.ipynb", "print('ran', profile)")
    nb = nbformat.read(src, as_version=4)
    nb.metadata["rdmf"] = {"uses_real_data": True}
    nbformat.write(nb, src)
    _notebook(books / "02_plain.ipynb", "print('plain')")
    kept = reports / "default" / "notebooks" / "01_real.ipynb"
    kept.parent.mkdir(parents=True)
    kept.write_text("made with the real data")
    (reports / "default" / "notebooks" / "02_plain.ipynb").write_text("old")
    rp.reproduce("default", progress=False)
    assert kept.read_text() == "made with the real data"
    assert (reports / "default" / "notebooks" / rp.WITHOUT_DATA / "01_real.ipynb").is_file()
    assert "plain" in (reports / "default" / "notebooks" / "02_plain.ipynb").read_text()


def test_the_callers_environment_is_restored(sandbox, monkeypatch):
    """The data root and PYTHONPATH go to the kernels only."""
    books, _ = sandbox
    monkeypatch.delenv("RDMF_DATA_ROOT", raising=False)
    monkeypatch.setenv("PYTHONPATH", "/somewhere")
    _notebook(books / "01_a.ipynb", "import os; print(os.environ['RDMF_DATA_ROOT'])")
    before = dict(rp.os.environ)
    results = rp.reproduce("default", data_root="/data/root", progress=False)
    out = nbformat.read(results[0].output, as_version=4)
    assert "/data/root" in "".join(o.get("text", "") for c in out.cells for o in c.get("outputs", []))
    assert dict(rp.os.environ) == before
