"""Execute the notebooks in order with papermill under a named profile.

- Executed notebooks go to ``reports/<profile>/notebooks/``, so no profile overwrites another's
  results; a source notebook in ``notebooks/`` is only replaced with ``update_sources=True``
  (profile ``ci`` only: the stored outputs are what nbval regression-tests) and only after a
  successful run.
- The first failing notebook stops the run; the error names the notebook and the cell, and the
  partial output is kept as ``<name>.failed.ipynb`` beside the reports.
- Parameters a notebook does not declare in its ``parameters`` cell are rejected before anything
  runs.
- Volatile metadata (papermill timestamps, durations) is stripped from stored notebooks and split
  stream outputs are joined, so that a re-run changes bytes only when outputs change; durations go
  to the git-ignored ``reports/<profile>/timings.json`` instead.
- A run without a data root never replaces what was made with the real data: the executed copy of
  a notebook that reads it (metadata ``rdmf.uses_real_data``) is kept, and this run's copy goes to
  ``reports/<profile>/notebooks/without_data/`` (git-ignored); figures and tables follow the same
  rule (``rdmf.reports``).
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import nbformat

from .io import atomic_write_json, atomic_write_text
from .paths import check_profile, notebooks_dir, repo_root, reports_dir
from .reports import keep_without_data, shown_path


TIMINGS = "timings.json"
"""Per-notebook wall-clock seconds of the last run, under ``reports/<profile>/`` (git-ignored)."""
WITHOUT_DATA = "without_data"
"""Folder (under ``reports/<profile>/notebooks/``, git-ignored) for a run's executed copy of a
notebook that reads the real data, when the run has no data root and a copy made with it is kept."""


class NotebookFailed(RuntimeError):
    """A notebook raised; carries the notebook path and the failing cell."""

    def __init__(self, notebook: Path, cell_index: int | None, ename: str, evalue: str,
                 partial: Path | None, *, timed_out: bool = False, timeout_s: int | None = None):
        if timed_out:
            where = f"cell {cell_index}" if cell_index is not None else "an unknown cell"
            message = f"{notebook.name} timed out at {where}" + (
                f": it ran longer than the per-cell limit of {timeout_s} s (--timeout)"
                if timeout_s else "")
        else:
            where = f"cell {cell_index}" if cell_index is not None else "start-up"
            message = f"{notebook.name} failed at {where}: {ename}: {evalue}"
        super().__init__(message + (f" (partial output: {partial})" if partial else ""))
        self.notebook, self.cell_index, self.partial = notebook, cell_index, partial


@dataclass
class NotebookResult:
    name: str
    seconds: float
    output: Path


def list_notebooks(only: list[str] | None = None) -> list[Path]:
    """The ordered notebooks ``notebooks/NN_*.ipynb``; ``only`` filters by prefix or name (an
    ``only`` without any name, e.g. from ``--only ""``, is an error, not "all")."""
    books = sorted(p for p in notebooks_dir().glob("[0-9][0-9]_*.ipynb"))
    if only is not None:
        wanted = [w.strip() for w in only if w.strip()]
        if not wanted:
            raise ValueError(f"--only {','.join(only)!r}: the selection is empty; give "
                             "comma-separated notebook prefixes or names, e.g. 01,02 or 05_data "
                             "(leave --only out to run every notebook)")
        chosen = [p for p in books if any(p.name.startswith(w) or p.stem == w for w in wanted)]
        unknown = [w for w in wanted if not any(p.name.startswith(w) or p.stem == w for p in books)]
        if unknown:
            raise ValueError(f"--only: no notebook matches {unknown}; available: "
                             f"{[p.stem for p in books]}")
        books = chosen
    if not books:
        raise FileNotFoundError(f"no notebooks found in {notebooks_dir()}")
    return books


def declared_parameters(notebook: Path) -> dict:
    """Parameter names and defaults declared in the notebook's ``parameters`` cell."""
    import papermill

    return {name: info.get("default") for name, info in
            papermill.inspect_notebook(str(notebook)).items()}


def check_parameters(notebooks: list[Path], parameters: dict) -> None:
    for nb in notebooks:
        declared = declared_parameters(nb)
        if "profile" not in declared:
            raise ValueError(f"{nb.name}: its parameters cell does not declare `profile`")
        unknown = sorted(set(parameters) - set(declared))
        if unknown:
            raise ValueError(f"{nb.name} does not accept parameter(s) {unknown}; it declares "
                             f"{sorted(declared)}")


def strip_volatile(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Remove papermill/execution timestamps and durations, and join consecutive stream outputs
    of one stream (how a kernel's output happens to be split into messages varies from run to
    run; the text does not)."""
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = merge_streams(cell.outputs)
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.metadata.get("tags") == []:
            cell.metadata.pop("tags")  # papermill adds empty tag lists; the paired script has none
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell["id"] = "injected-parameters"  # papermill draws a random id on every run
    return nb


def merge_streams(outputs: list) -> list:
    """``outputs`` with each run of consecutive ``stream`` outputs of the same name joined."""
    merged: list = []
    for out in outputs:
        previous = merged[-1] if merged else None
        if (out.get("output_type") == "stream" and previous is not None
                and previous.get("output_type") == "stream" and previous.get("name") == out.get("name")):
            previous["text"] = previous["text"] + out["text"]
        else:
            merged.append(out)
    return merged


def uses_real_data(notebook: Path) -> bool:
    """Whether the notebook reads the real benchmark data when a data root is set (its metadata
    ``rdmf.uses_real_data``)."""
    return bool(nbformat.read(notebook, as_version=4).metadata.get("rdmf", {}).get("uses_real_data"))


def run_notebook(notebook: Path, out_path: Path, parameters: dict, *, kernel_name: str = "python3",
                 timeout_s: int | None = None) -> nbformat.NotebookNode:
    """Execute one notebook; write the stripped result atomically to ``out_path``."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    out_path.parent.mkdir(parents=True, exist_ok=True)
    partial = out_path.with_name(out_path.stem + ".failed.ipynb")
    engine_kwargs = {"execution_timeout": timeout_s} if timeout_s else {}
    try:
        nb = papermill.execute_notebook(
            str(notebook), str(partial), parameters=parameters or None, kernel_name=kernel_name,
            progress_bar=False, cwd=str(notebook.parent), **engine_kwargs)
    except PapermillExecutionError as err:
        raise NotebookFailed(notebook, err.cell_index, err.ename, err.evalue, partial) from None
    except TimeoutError:  # nbclient's CellTimeoutError
        raise NotebookFailed(notebook, _last_started_cell(partial), "CellTimeoutError", "",
                             partial if partial.exists() else None, timed_out=True,
                             timeout_s=timeout_s) from None
    except Exception as err:  # kernel died, ...
        raise NotebookFailed(notebook, None, type(err).__name__, str(err).strip().split("\n")[0],
                             partial if partial.exists() else None) from None
    partial.unlink(missing_ok=True)
    nb = strip_volatile(nb)
    atomic_write_text(out_path, nbformat.writes(nb) + "\n")
    return nb


def _last_started_cell(partial: Path) -> int | None:
    """Index of the last cell papermill started in a partial output (the one that was running)."""
    try:
        nb = nbformat.read(partial, as_version=4)
    except (OSError, ValueError):
        return None
    started = [i for i, cell in enumerate(nb.cells)
               if cell.get("metadata", {}).get("papermill", {}).get("start_time")]
    return started[-1] if started else None


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of the block, then restore the previous ones
    (the kernels started inside inherit them; the caller's process is left as it was)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def reproduce(profile: str = "ci", *, only: list[str] | None = None,
              parameters: dict | None = None, update_sources: bool = False,
              data_root: str | None = None, progress: bool = True,
              timeout_s: int | None = None) -> list[NotebookResult]:
    """Run every notebook in order under ``profile``; see the module docstring."""
    check_profile(profile)
    parameters = dict(parameters or {})
    if "profile" in parameters:
        raise ValueError("set the profile with --profile, not as a parameter")
    if update_sources and profile != "ci":
        raise ValueError("--update-notebooks stores outputs in notebooks/, which hold the `ci` "
                         "profile's outputs (what nbval re-runs); use --profile ci")
    notebooks = list_notebooks(only)
    check_parameters(notebooks, parameters)

    # the kernels inherit the environment: the same rdmf and the data root (no MPLBACKEND: the
    # kernel's inline backend, and rdmf.figures.save_figure shows each figure in the notebook);
    # the caller's environment is restored afterwards
    kernel_env = {"PYTHONPATH": os.pathsep.join(
        [str(repo_root())] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])}
    # a relative data root means "relative to where the command was typed"; the kernels run in
    # notebooks/, so hand them an absolute path
    data_root = data_root if data_root is not None else os.environ.get("RDMF_DATA_ROOT") or None
    if data_root is not None:
        kernel_env["RDMF_DATA_ROOT"] = str(Path(data_root).expanduser().resolve())
    with environment(kernel_env):
        results = _run_all(profile, notebooks, parameters, have_data=data_root is not None,
                           update_sources=update_sources, progress=progress, timeout_s=timeout_s)
    _record_timings(profile, parameters, results)
    return results


def _run_all(profile: str, notebooks: list[Path], parameters: dict, *, have_data: bool,
             update_sources: bool, progress: bool, timeout_s: int | None) -> list[NotebookResult]:
    """Execute ``notebooks`` in order (see :func:`reproduce`)."""
    out_dir = reports_dir(profile) / "notebooks"
    results: list[NotebookResult] = []
    from tqdm.auto import tqdm

    bar = tqdm(notebooks, desc=f"reproduce[{profile}]", unit="notebook", disable=not progress)
    for nb_path in bar:
        bar.set_postfix_str(nb_path.stem)
        # the ci profile is every notebook's default: pass no parameter then, so that a
        # stored source notebook carries no injected-parameters cell
        params = dict(parameters)
        if profile != "ci":
            params["profile"] = profile
        start = time.perf_counter()
        out_path = out_dir / nb_path.name
        if uses_real_data(nb_path) and keep_without_data(out_path, have_data, profile=profile):
            # the stored executed copy shows the real-data sections; this run's goes beside it
            out_path = out_dir / WITHOUT_DATA / nb_path.name
            bar.write(f"  this run's copy of {nb_path.stem}: {shown_path(out_path)}")
        nb = run_notebook(nb_path, out_path, params, timeout_s=timeout_s)
        seconds = time.perf_counter() - start
        if update_sources:
            atomic_write_text(nb_path, nbformat.writes(nb) + "\n")
        results.append(NotebookResult(nb_path.stem, seconds, out_path))
        bar.write(f"  {nb_path.stem}: {seconds:.1f} s")
    return results


def _record_timings(profile: str, parameters: dict, results: list[NotebookResult]) -> None:
    """Update ``reports/<profile>/timings.json`` (git-ignored: wall-clock times belong to the
    machine, not to the results): a run of a subset (``--only``) replaces the entries of the
    notebooks it ran and keeps the others (each entry says its parameters)."""
    import json

    path = reports_dir(profile) / TIMINGS
    entries = {}
    if path.is_file():
        try:
            entries = {e["name"]: e for e in json.loads(path.read_text()).get("notebooks", [])}
        except (ValueError, KeyError, TypeError):
            entries = {}
    for r in results:
        entries[r.name] = {"name": r.name, "seconds": round(r.seconds, 1), "parameters": parameters}
    rows = [entries[name] for name in sorted(entries)]
    atomic_write_json(path, {
        "profile": profile,
        "notebooks": rows,
        "total_seconds": round(sum(e["seconds"] for e in rows), 1),
    })
