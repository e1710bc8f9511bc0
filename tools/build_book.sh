#!/usr/bin/env bash
# Build the course book: a static HTML site of the eight notebooks (from their stored outputs: no
# notebook is executed) plus docs/*.md and the bibliography, into build/book/html/.
#   pip install -e ".[book]"        # Sphinx, myst-nb, sphinxcontrib-bibtex, offline MathJax
#   bash tools/build_book.sh        # then open build/book/html/book/index.html
# Extra arguments go to sphinx-build (e.g. -E to rebuild everything).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${RDMF_BOOK_DIR:-build/book/html}"
start=$(date +%s)
python -m sphinx -b html -c book -q -W --keep-going -j 1 "$@" . "$out"
# a landing page at the site's root
cat > "$out/index.html" <<'HTML'
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>RDMF course book</title>
<link rel="icon" href="_static/favicon.svg">
<meta http-equiv="refresh" content="0; url=book/index.html"></head>
<body><p><a href="book/index.html">RDMF course book</a></p></body></html>
HTML
echo "book built in $(( $(date +%s) - start )) s: $out/book/index.html"
