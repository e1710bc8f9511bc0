"""docs/design.md is the design reference the code cites as "docs/design.md §N": every such
citation in the repository's text files must name a section the document has, every link into
it must name one of its headings, and no citation of the old out-of-tree reference may remain."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DESIGN = ROOT / "docs" / "design.md"
TEXT_SUFFIXES = {".py", ".md", ".ipynb", ".json", ".jsonl", ".txt", ".cfg", ".toml", ".yaml",
                 ".yml", ".sh", ".cff", ".rst"}
SKIP_DIRS = {".git", "__pycache__", ".pytest_cache", ".ipynb_checkpoints"}
SKIP_TOP = {"data", "runs"}  # generated, git-ignored

HEADING = re.compile(r"^## (\d+)\. (\S.*)$", re.MULTILINE)
# "design.md §6", "docs/design.md §4–5", and the text of a Markdown link
# "[docs/design.md §3](...)"
CITATION = re.compile(r"design\.md\s*§\s*(\d+)(?:\s*[–-]\s*(\d+))?")
ANCHOR = re.compile(r"design\.md#([A-Za-z0-9_-]+)")
# a citation of the out-of-tree reference (its upper-case name, with or without ".md", then "§N"
# or "section N"), or a path to it; spelled in pieces so that this file does not match itself
OLD_CITATION = re.compile("DESIG" + r"N(?:\.md)?\s*(?:§|section\s+\d)")
OLD_PATH = re.compile(r"shared/" + "DESIGN")


def _text_files() -> list[Path]:
    """Tracked and untracked-but-not-ignored files (git), else a walk of the tree."""
    try:
        command = ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"]
        out = subprocess.run(command, cwd=ROOT, capture_output=True, check=True,
                             timeout=60).stdout
        paths = [ROOT / p for p in out.decode("utf-8").split("\0") if p]
    except (OSError, subprocess.SubprocessError):
        paths = [p for p in ROOT.rglob("*")
                 if not SKIP_DIRS & set(p.relative_to(ROOT).parts[:-1])
                 and p.relative_to(ROOT).parts[0] not in SKIP_TOP]
    return sorted(p for p in paths if p.suffix in TEXT_SUFFIXES and p.is_file())


def _read(path: Path) -> str:
    # JSON files may escape "§" as \u00a7
    return path.read_text(encoding="utf-8", errors="replace").replace("\\u00a7", "§")


def _slug(title: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


@pytest.fixture(scope="module")
def sections() -> dict[int, str]:
    assert DESIGN.is_file(), "docs/design.md is missing"
    return {int(n): title for n, title in HEADING.findall(DESIGN.read_text(encoding="utf-8"))}


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    return {str(p.relative_to(ROOT)): _read(p) for p in _text_files()}


def test_design_doc_has_the_seven_sections_in_order(sections):
    assert list(sections) == [1, 2, 3, 4, 5, 6, 7], sorted(sections)


def test_every_design_citation_names_an_existing_section(sections, texts):
    cited: dict[int, list[str]] = {}
    for name, text in texts.items():
        for match in CITATION.finditer(text):
            first = int(match[1])
            last = int(match[2]) if match[2] else first
            for n in range(first, last + 1):
                cited.setdefault(n, []).append(name)
    missing = {n: sorted(set(files))[:5] for n, files in cited.items() if n not in sections}
    assert not missing, f"citations of sections docs/design.md does not have: {missing}"
    # the search finds the citations the package makes (so the check above is not vacuous)
    in_package = sorted({f for files in cited.values() for f in files if f.startswith("rdmf/")})
    assert len(in_package) >= 5, in_package


def test_bare_section_references_inside_the_document_exist(sections):
    body = DESIGN.read_text(encoding="utf-8")
    refs = {int(n) for n in re.findall(r"§\s*(\d+)", body)}
    assert refs <= set(sections), sorted(refs - set(sections))


def test_every_link_into_the_document_names_a_heading(sections, texts):
    slugs = {_slug(f"{n}. {title}") for n, title in sections.items()}
    bad = sorted({(name, anchor) for name, text in texts.items()
                  for anchor in ANCHOR.findall(text) if anchor not in slugs})
    assert not bad, f"links to anchors docs/design.md does not have: {bad[:10]}"


def test_no_citation_of_the_out_of_tree_reference_remains(texts):
    stale = sorted(name for name, text in texts.items()
                   if OLD_CITATION.search(text) or OLD_PATH.search(text))
    assert not stale, f"re-point these citations to docs/design.md §N: {stale}"
