"""Sphinx configuration of the course book: the eight notebooks (rendered from their stored
outputs, never executed), the docs and the bibliography. Built by ``tools/build_book.sh`` from the
repository root (``sphinx-build -c book . build/book/html``)."""

from __future__ import annotations

project = "RDMF: reaction-diffusion fusion for video moment retrieval"
author = "RDMF contributors"
copyright = "RDMF contributors"

root_doc = "book/index"
# the source directory is the repository root; only these files are documents
include_patterns = ["book/index.md", "book/references.md", "notebooks/[0-9][0-9]_*.ipynb",
                    "docs/*.md"]
exclude_patterns = ["build", "reports", "**/.ipynb_checkpoints"]

extensions = [
    "myst_nb",                   # .ipynb and MyST markdown
    "sphinxcontrib.bibtex",      # docs/references.bib
    "sphinx-mathjax-offline",    # MathJax 3 served from _static/mathjax: no network needed
]

# notebooks: show the stored outputs (the `ci` profile's, regression-tested by nbval)
nb_execution_mode = "off"
nb_output_stderr = "remove"
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header", "mystnb.unknown_mime_type"]

bibtex_bibfiles = ["../docs/references.bib"]  # relative to this folder
bibtex_default_style = "plain"
bibtex_reference_style = "author_year"

html_theme = "alabaster"
html_title = "RDMF course book"
html_theme_options = {"page_width": "1180px", "sidebar_width": "260px", "fixed_sidebar": True}
html_sidebars = {"**": ["about.html", "navigation.html", "relations.html", "searchbox.html"]}
html_static_path = []
html_favicon = "favicon.svg"  # also spares the browser a request for /favicon.ico
html_copy_source = False
html_show_sourcelink = False
