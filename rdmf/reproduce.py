"""Execute the notebooks in order with papermill under a named profile.

- Executed notebooks go to ``reports/<profile>/notebooks/``, so no profile overwrites another's
  results; a source notebook in ``notebooks/`` is only replaced with ``update_sources=True``
  (profile ``ci`` only: the stored outputs are what nbval regression-tests) and only after a
  successful run.
- The first failing notebook stops the run; the error names the notebook and the cell, and the
  partial output is kept as ``<name>.failed.ipynb`` beside the reports.
- Parameters a notebook does not declare in its ``parameters`` cell are rejected before anything
  runs.
- Volatile metadata (papermill timestamps, durations) is stripped from stored notebooks so that a
  re-run changes bytes only when outputs change; durations go to ``reproduce.json`` instead.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .io import atomic_write_json, atomic_write_text
from .paths import check_profile, notebooks_dir, repo_root, reports_dir


class NotebookFailed(RuntimeError):
    """A notebook raised; carries the notebook path and the failing cell."""

    def __init__(self, notebook: Path, cell_index: int | None, ename: str, evalue: str,
                 partial: Path | None):
        where = f"cell {cell_index}" if cell_index is not None else "start-up"
        super().__init__(f"{notebook.name} failed at {where}: {ename}: {evalue}"
                         + (f" (partial output: {partial})" if partial else ""))
        self.notebook, self.cell_index, self.partial = notebook, cell_index, partial


@dataclass
class NotebookResult:
    name: str
    seconds: float
    output: Path


def list_notebooks(only: list[str] | None = None) -> list[Path]:
    """The ordered notebooks ``notebooks/NN_*.ipynb``; ``only`` filters by prefix or name."""
    books = sorted(p for p in notebooks_dir().glob("[0-9][0-9]_*.ipynb"))
    if only:
        wanted = [w.strip() for w in only if w.strip()]
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
    """Remove papermill/execution timestamps and durations (kept outputs are untouched)."""
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.metadata.get("tags") == []:
            cell.metadata.pop("tags")  # papermill adds empty tag lists; the paired script has none
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell["id"] = "injected-parameters"  # papermill draws a random id on every run
    return nb


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
    except Exception as err:  # kernel died, timeout, ...
        raise NotebookFailed(notebook, None, type(err).__name__, str(err),
                             partial if partial.exists() else None) from None
    partial.unlink(missing_ok=True)
    nb = strip_volatile(nb)
    atomic_write_text(out_path, nbformat.writes(nb) + "\n")
    return nb


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

    # the kernel inherits the environment: the same rdmf and the data root (no MPLBACKEND: the
    # kernel's inline backend, and rdmf.figures.save_figure shows each figure in the notebook)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(repo_root())] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    # a relative data root means "relative to where the command was typed"; the kernels run in
    # notebooks/, so hand them an absolute path
    data_root = data_root if data_root is not None else os.environ.get("RDMF_DATA_ROOT") or None
    if data_root is not None:
        os.environ["RDMF_DATA_ROOT"] = str(Path(data_root).expanduser().resolve())

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
        nb = run_notebook(nb_path, out_path, params, timeout_s=timeout_s)
        seconds = time.perf_counter() - start
        if update_sources:
            atomic_write_text(nb_path, nbformat.writes(nb) + "\n")
        results.append(NotebookResult(nb_path.stem, seconds, out_path))
        bar.write(f"  {nb_path.stem}: {seconds:.1f} s")
    _record_timings(profile, parameters, results)
    return results


def _record_timings(profile: str, parameters: dict, results: list[NotebookResult]) -> None:
    """Update ``reports/<profile>/reproduce.json``: a run of a subset (``--only``) replaces the
    entries of the notebooks it ran and keeps the others (each entry says its parameters)."""
    import json

    path = reports_dir(profile) / "reproduce.json"
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
