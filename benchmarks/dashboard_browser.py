"""Dashboard speed in a real browser: first render of every page and a filter change, in headless Chromium.

Starts `streamlit run` on a warehouse, opens each page in a fresh browser
context (so nothing is cached in the page), and times from navigation to the
moment the script has finished (`stApp` reports `notRunning`) with every
chart drawn. Then picks the second option of the page's first select box and
times the rerun. Reports median and max over `--runs` visits per page; the
first visit after the server starts is the cold one and is reported apart.

    .venv/bin/python benchmarks/dashboard_browser.py --config lodestar.toml --runs 3 --json
    .venv/bin/python benchmarks/big_warehouse.py --demo-config lodestar.toml --out /tmp/big
    .venv/bin/python benchmarks/dashboard_browser.py --config /tmp/big/lodestar.toml --runs 3

Uses Debian's chromium (`apt-get install chromium`) through Playwright's
Python client; no Playwright browser download is needed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dashboards.navigation import PAGES, url_path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic"]
PAGE_PATHS = tuple(url_path(spec) for spec in PAGES)
APP_IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
ERROR_SELECTORS = ("[data-testid='stException']", "[data-testid='stAlertContentError']")

_WATCH_RERUN = """() => { const app = document.querySelector("[data-testid='stApp']"); let ran = false;
  window.__rerunDone = new Promise(resolve => { new MutationObserver(() => {
    const state = app.getAttribute('data-test-script-state');
    if (state === 'running') ran = true;
    if (ran && state === 'notRunning') resolve(performance.now()); }).observe(app, {attributes: true}); }); }"""
_CHARTS_DRAWN = """() => [...document.querySelectorAll("[data-testid='stVegaLiteChart']")]
  .every(chart => chart.querySelector('canvas, svg'))"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_app(config: Path, port: int | None = None, timeout: float = 60.0) -> Iterator[str]:
    """`streamlit run` on `config` at 127.0.0.1; yields the base URL, stops the server afterwards."""
    port = port or free_port()
    env = {**os.environ, "LODESTAR_CONFIG": str(config)}
    command = [sys.executable, "-m", "streamlit", "run", str(REPO / "dashboards" / "streamlit_app.py"),
               "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
               "--browser.gatherUsageStats", "false"]
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                    if response.read() == b"ok":
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode(errors="replace") if process.stdout else ""
                raise RuntimeError(f"streamlit did not start on {base}:\n{output[-3000:]}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def launch_browser(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def wait_until_rendered(page, timeout_ms: int = 60_000) -> None:
    """The script finished, a title is on screen, and every chart has drawn."""
    page.wait_for_selector("h1", timeout=timeout_ms)
    page.wait_for_selector(APP_IDLE, timeout=timeout_ms)
    page.wait_for_function(_CHARTS_DRAWN, timeout=timeout_ms)


def error_texts(page) -> list[str]:
    """Tracebacks and error boxes on the page (an empty list is a clean page)."""
    return [element.inner_text() for selector in ERROR_SELECTORS for element in page.query_selector_all(selector)]


def open_page(browser, base: str, path: str, lang: str = "zh", viewport=(1400, 1000)):
    """A new context and page at `path`, rendered; returns (context, page, seconds to first render)."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]},
                                  locale="zh-CN" if lang == "zh" else "en-GB", timezone_id="Asia/Shanghai")
    page = context.new_page()
    began = time.perf_counter()
    page.goto(f"{base}/{path}")
    wait_until_rendered(page)
    return context, page, time.perf_counter() - began


def change_first_filter(page, timeout_ms: int = 60_000) -> float | None:
    """Pick the second option of the first select box in the main area; seconds until the rerun is drawn."""
    boxes = page.locator("[data-testid='stMain'] [data-testid='stSelectbox']")
    if boxes.count() == 0:
        return None
    boxes.first.click()
    options = page.locator("[role='option']")
    options.first.wait_for(timeout=timeout_ms)
    if options.count() < 2:
        page.keyboard.press("Escape")
        return None
    page.evaluate(_WATCH_RERUN)
    began = time.perf_counter()
    options.nth(1).click()
    page.evaluate("() => window.__rerunDone")
    page.wait_for_function(_CHARTS_DRAWN, timeout=timeout_ms)
    return time.perf_counter() - began


@dataclass
class PageTiming:
    page: str
    cold_seconds: float
    first_render_median: float
    first_render_max: float
    filter_change_median: float | None
    errors: list[str] = field(default_factory=list)


def measure(config: Path, runs: int) -> list[PageTiming]:
    from playwright.sync_api import sync_playwright

    results = []
    with running_app(config) as base, sync_playwright() as playwright:
        browser = launch_browser(playwright)
        for path in PAGE_PATHS:
            renders, changes, errors = [], [], []
            for _ in range(runs + 1):
                context, page, seconds = open_page(browser, base, path)
                renders.append(seconds)
                errors.extend(error_texts(page))
                changed = change_first_filter(page)
                if changed is not None:
                    changes.append(changed)
                context.close()
            warm = renders[1:] or renders
            results.append(PageTiming(
                page=path or "portfolio",
                cold_seconds=round(renders[0], 3),
                first_render_median=round(statistics.median(warm), 3),
                first_render_max=round(max(warm), 3),
                filter_change_median=round(statistics.median(changes), 3) if changes else None,
                errors=sorted(set(errors)),
            ))
        browser.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = measure(args.config.resolve(), args.runs)
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=2, ensure_ascii=False))
        return
    print(f"{'page':<10} {'cold s':>7} {'median s':>9} {'max s':>7} {'filter s':>9}  errors")
    for r in results:
        change = "—" if r.filter_change_median is None else f"{r.filter_change_median:.2f}"
        print(f"{r.page:<10} {r.cold_seconds:>7.2f} {r.first_render_median:>9.2f} {r.first_render_max:>7.2f} "
              f"{change:>9}  {len(r.errors)}")


if __name__ == "__main__":
    main()
