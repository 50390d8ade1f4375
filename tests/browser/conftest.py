"""Fixtures for the browser checks: the built book served on 127.0.0.1 and headless Chromium.

Every request to a host other than the local server is aborted and recorded, so a page that
would need the network fails the check instead of quietly working only online.
"""

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_path():
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def site():
    """Serve _build/html on 127.0.0.1 and yield its base URL."""
    if not (HTML / "index.html").exists():
        pytest.fail("no built book at _build/html: run `make book` first")
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    exe = chromium_path()
    if not Path(exe).exists():
        pytest.fail(f"Chromium not found at {exe}: run tools/ensure_chromium.sh or set CHROMIUM")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


class PageProbe:
    """A page with a record of what it asked for (foreign requests, failures) and of its errors."""

    def __init__(self, browser, base):
        self.base = base
        self.host = urlparse(base).netloc
        self.foreign, self.failed, self.errors = [], [], []
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("requestfailed", lambda r: self.failed.append(f"{r.url} ({r.failure})"))
        self.page.on("response", self._response)
        self.page.on("pageerror", lambda e: self.errors.append(f"{e.message} {e.stack or ''}"))
        # Errors the page logs (a resource the browser fetched on its own, such as /favicon.ico,
        # reports a 404 only here).
        self.page.on("console", self._console)

    def _route(self, route):
        url = urlparse(route.request.url)
        if url.scheme in ("data", "blob") or url.netloc == self.host:
            route.continue_()
        else:
            self.foreign.append(route.request.url)
            route.abort()

    def _console(self, message):
        if message.type == "error":
            self.errors.append(f"console: {message.text} at {message.location.get('url', '?')}")

    def _response(self, response):
        if response.status >= 400:
            self.failed.append(f"{response.url} (HTTP {response.status})")

    def open(self, path):
        # Generous limits: CI machines are slow and shared; a hang still fails, just later.
        self.page.goto(f"{self.base}/{path}", wait_until="load", timeout=120_000)
        self.page.wait_for_load_state("networkidle", timeout=120_000)
        return self.page

    def close(self):
        self.context.close()


@pytest.fixture
def probe(browser, site):
    p = PageProbe(browser, site)
    yield p
    p.close()


def screenshot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
