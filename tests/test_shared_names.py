"""Every name the package shares has one home: exactly one module-level assignment in ``rdmf/``
(other modules import it)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "rdmf"

#: shared name -> the module that owns it
HOMES = {
    "CLIP_LEN_S": "rdmf/data/sample.py",
    "FUSIONS": "rdmf/model/fusion.py",
    "DATASETS": "rdmf/data/datasets.py",
    "TVSUM_DOMAINS": "rdmf/data/tvsum.py",
    "YOUTUBE_DOMAINS": "rdmf/data/youtube.py",
    "BOUNDARIES": "rdmf/numerics/dct.py",
    "PROFILES": "rdmf/profiles.py",
}
#: names of the per-module copies these replaced: none may come back
GONE = ("DOMAINS", "PERF_PROFILES", "SETTINGS", "YOUTUBE_DOMAINS_ALL")


def module_assignments() -> dict[str, list[str]]:
    """Name -> the modules (paths relative to the repository) assigning it at module level."""
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in tree.body:
            if isinstance(node, ast.Assign):
                targets = [t for target in node.targets for t in ast.walk(target)]
            elif isinstance(node, ast.AnnAssign):
                targets = [node.target]
            else:
                continue
            for target in targets:
                if isinstance(target, ast.Name):
                    found.setdefault(target.id, []).append(
                        path.relative_to(PACKAGE.parent).as_posix())
    return found


@pytest.mark.parametrize("name", sorted(HOMES))
def test_each_shared_name_is_assigned_once_in_its_home(name):
    assert module_assignments().get(name) == [HOMES[name]]


def test_replaced_copies_are_gone():
    found = module_assignments()
    assert {name: found[name] for name in GONE if name in found} == {}


def test_the_profile_table_is_what_every_reader_sees():
    from rdmf.data.report import settings as data_settings
    from rdmf.experiments.perf import perf_settings
    from rdmf.experiments.protocols import BUDGETS
    from rdmf.numerics.validation import settings as numerics_settings
    from rdmf.paths import check_profile
    from rdmf.profiles import PROFILES
    from rdmf.theory.profiles import theory_settings
    for profile, parts in PROFILES.items():
        assert check_profile(profile) == profile
        assert theory_settings(profile) == parts["theory"]
        assert numerics_settings(profile) == parts["numerics"]
        assert data_settings(profile) == parts["data"]
        assert perf_settings(profile) == parts["perf"]
        assert set(BUDGETS[profile]) == set(parts["experiments"])
    with pytest.raises(ValueError, match="valid profiles: ci, default, paper"):
        check_profile("huge")
