"""The course book, built and opened in a real headless browser (Debian's chromium and
chromium-driver, driven by Selenium; no network: MathJax is served from the site itself).

Every page loads with no SEVERE console entry, every <img> has decoded with a non-zero natural
size, math has rendered (MathJax CHTML elements on the theory pages), and every same-site link
resolves. Screenshots of a theory page and a results page, and the counts, go to reports/book/.
Skipped with a reason when the browser, its driver or the book packages are missing.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "reports" / "book"
BOOK_BUDGET_S = 180

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _browser() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not (chromium and driver):
        pytest.skip("headless browser not installed: apt-get install -y chromium chromium-driver")
    for module in ("selenium", "sphinx", "myst_nb", "sphinxcontrib.bibtex"):
        pytest.importorskip(module, reason=f"{module} missing: pip install -e '.[book]'")
    return chromium, driver


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    _browser()
    out = tmp_path_factory.mktemp("book") / "html"
    start = time.perf_counter()
    proc = subprocess.run(["bash", str(REPO / "tools" / "build_book.sh")], cwd=REPO,
                          env={**os.environ, "RDMF_BOOK_DIR": str(out)},
                          capture_output=True, text=True, timeout=2 * BOOK_BUDGET_S, check=False)
    seconds = time.perf_counter() - start
    assert proc.returncode == 0, f"book build failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    handler = functools.partial(_QuietHandler, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"root": out, "url": f"http://127.0.0.1:{server.server_address[1]}/",
               "build_s": seconds}
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium, driver_path = _browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage", "--window-size=1280,1600",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


_WAIT_FOR_MATH = """
const done = arguments[arguments.length - 1];
if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
  MathJax.startup.promise.then(() => done(true), () => done(false));
} else { done(null); }
"""

_PAGE_FACTS = """
return {
  images: Array.from(document.images).map(i => ({src: i.currentSrc || i.src, complete: i.complete,
                                                  width: i.naturalWidth})),
  math: document.querySelectorAll('mjx-container').length,
  unrendered: document.querySelectorAll('.math:not(:has(mjx-container))').length,
  links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
};
"""


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def test_book_renders_in_a_headless_browser(site, browser):
    start = time.perf_counter()
    base = site["url"]
    pages = sorted(p.relative_to(site["root"]).as_posix() for p in site["root"].rglob("*.html")
                   if "_static" not in p.parts and "_sources" not in p.parts)
    assert "book/index.html" in pages and sum(p.startswith("notebooks/") for p in pages) == 8
    counts = {"pages": 0, "images": 0, "formulas": 0, "links_checked": 0}
    math_pages, links, problems = {}, set(), []
    for page in pages:
        browser.get(base + page)
        rendered = browser.execute_async_script(_WAIT_FOR_MATH)
        facts = browser.execute_script(_PAGE_FACTS)
        severe = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        problems += [f"{page}: console: {m}" for m in severe]
        for image in facts["images"]:
            if not (image["complete"] and image["width"] > 0):
                problems.append(f"{page}: image not decoded: {image['src'][:120]}")
        if rendered is False or facts["unrendered"]:
            problems.append(f"{page}: {facts['unrendered']} formulas not rendered by MathJax")
        counts["pages"] += 1
        counts["images"] += len(facts["images"])
        counts["formulas"] += facts["math"]
        math_pages[page] = facts["math"]
        links.update(urllib.parse.urldefrag(h).url for h in facts["links"] if h.startswith(base))
    for url in sorted(links):
        code = _status(url)
        if code != 200:
            problems.append(f"link {url[len(base):]} -> HTTP {code}")
    counts["links_checked"] = len(links)
    assert not problems, "\n".join(problems[:40])
    # the theory pages carry their math and figures
    for page in ("notebooks/01_steady_states.html", "notebooks/02_turing_instability.html",
                 "notebooks/03_numerical_validation.html", "notebooks/04_lattice_schemes.html"):
        assert math_pages[page] > 10, (page, math_pages[page])
    assert counts["images"] >= 23

    OUT.mkdir(parents=True, exist_ok=True)
    for page, name in (("notebooks/02_turing_instability.html", "theory_02_turing_instability.png"),
                       ("notebooks/07_benchmarks.html", "results_07_benchmarks.png")):
        browser.get(base + page)
        browser.execute_async_script(_WAIT_FOR_MATH)
        if page.endswith("07_benchmarks.html"):  # scroll to the first figure of the results
            browser.execute_script("document.images[0] && document.images[0].scrollIntoView()")
        else:  # the dispersion section: formulas and a figure on one screen
            browser.execute_script(
                "const h = Array.from(document.querySelectorAll('h2'))"
                ".find(e => e.textContent.includes('Dispersion curves')); h && h.scrollIntoView()")
        time.sleep(0.3)
        assert browser.save_screenshot(str(OUT / name))
    # the counts are the record; times are printed (they belong to the machine, not the book)
    (OUT / "browser_check.json").write_text(json.dumps(counts, indent=1) + "\n")
    print(counts, f"book built in {site['build_s']:.1f} s, "
          f"checked in {time.perf_counter() - start:.1f} s")
