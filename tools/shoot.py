"""Screenshot pages of a built book, for a person to look at.

    .venv/bin/python tools/shoot.py _build/html chapters/convolution.html [more pages] --out /tmp/shots

Serves the folder on 127.0.0.1, blocks other hosts, waits for MathJax, saves full-page PNGs.
"""

import argparse
import functools
import http.server
import shutil
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("html_dir")
    ap.add_argument("pages", nargs="+")
    ap.add_argument("--out", default="_build/screenshots")
    ap.add_argument("--width", type=int, default=1280)
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=a.html_dir)
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": a.width, "height": 900})
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(base) or r.request.url.startswith("data:") else r.abort())
        for name in a.pages:
            page.goto(f"{base}/{name}", wait_until="networkidle")
            page.evaluate("async () => { if (window.MathJax && MathJax.startup) await MathJax.startup.promise; }")
            path = out / (name.replace("/", "__").removesuffix(".html") + ".png")
            page.screenshot(path=str(path), full_page=True)
            print(path)
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main()
