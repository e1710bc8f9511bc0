"""Where things live: the repository, generated data, reports and the (optional) real-data root.

papermill runs notebooks in the caller's working directory, so nothing in the package may rely on
the current directory: every path is resolved from this file's location or from the environment.
"""

from __future__ import annotations

import os
from pathlib import Path

from rdmf.profiles import check_profile  # noqa: F401  (the profiles' names live in rdmf.profiles)

DATA_ROOT_ENV = "RDMF_DATA_ROOT"
"""Environment variable naming the root folder of the real benchmark data (TVSum, ...)."""



def repo_root() -> Path:
    """The project checkout (the folder holding ``rdmf/``, ``notebooks/`` and ``reports/``)."""
    return Path(__file__).resolve().parent.parent


def notebooks_dir() -> Path:
    return repo_root() / "notebooks"


def generated_data_dir() -> Path:
    """``data/``: what the project generates or downloads (git-ignored)."""
    return repo_root() / "data"


def reports_dir(profile: str = "ci") -> Path:
    """``reports/<profile>/``: executed notebooks, figures, tables and metrics of one profile."""
    check_profile(profile)
    return repo_root() / "reports" / profile


def data_root(explicit: str | os.PathLike | None = None, *, must_exist: bool = False) -> Path | None:
    """The root of the real benchmark data.

    Resolution order: the ``explicit`` argument (a CLI flag or config field), then the
    ``RDMF_DATA_ROOT`` environment variable. Returns ``None`` when neither is set, so that callers
    fall back to the embedded synthetic data. With ``must_exist=True`` a root that is set but does
    not exist is an error naming where it came from.
    """
    source = "argument"
    value = explicit
    if value is None:
        value, source = os.environ.get(DATA_ROOT_ENV), f"${DATA_ROOT_ENV}"
    if value in (None, ""):
        if must_exist:
            raise FileNotFoundError(
                f"no data root given: pass --data-root or set {DATA_ROOT_ENV} to the folder that "
                "holds tvsum/, youtube_highlights/ or qvhighlights/")
        return None
    root = Path(value).expanduser().resolve()
    if must_exist and not root.is_dir():
        raise FileNotFoundError(f"data root {root} (from {source}) is not a directory")
    return root
