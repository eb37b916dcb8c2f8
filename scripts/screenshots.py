"""Screenshots of the reader-facing pages (issue #12), from the demo's bundled real flashes.

    PYTHONPATH=src .venv/bin/python scripts/screenshots.py [OUT_DIR] [--weight]

What it does, with the real commands only: the demo's stand-in upstreams (all 200 items of
each bundled source released), one `finews fetch` round into a new SQLite store, a second
round with 财联社 failing (so the status page shows a failure), `finews build`, then
`finews serve` on a free port, and Chromium (Playwright) at 1280 px and 390 px on the home
page, a story, an article, a stock, a search and the status page.  Writes
``<name>-desktop.png`` and ``<name>-phone.png`` into OUT_DIR (default docs/screenshots).
``--weight`` also prints the home page's weight (HTML + CSS + JS, gzip) as served.

Runs against whichever finews is first on PYTHONPATH: the "before" pictures of docs/site.md
were taken with the main branch's source of that day.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from finews.demo.upstreams import Upstreams

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-component-update"]
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def finews(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "finews", *args], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"finews {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def supports_replay_clock() -> bool:
    from finews.config import RunSettings

    return "stale_clock" in RunSettings.__dataclass_fields__


def pick_pages(site: Path) -> dict[str, str]:
    """A story told by the most outlets, one of its articles, the stock with most news."""
    pages = {"home": "index.html"}
    stories = sorted(site.glob("story/*/index.html"))
    best = max(stories, key=lambda p: p.read_text(encoding="utf-8").count("<li"), default=None)
    if best is not None:
        pages["story"] = best.relative_to(site).as_posix()
        first = re.search(r'href="\.\./\.\./(a/[^"]+\.html)"', best.read_text(encoding="utf-8"))
        if first:
            pages["article"] = first.group(1)
    if "article" not in pages:
        pages["article"] = next(site.glob("a/*/cls.*.html")).relative_to(site).as_posix()
    stocks = sorted(
        site.glob("s/*/index.html"), key=lambda p: -p.read_text(encoding="utf-8").count("<li")
    )
    pages["stock"] = stocks[0].relative_to(site).as_posix()
    pages["search"] = "search?q=英伟达"
    pages["status"] = "status"
    return pages


def home_weight(base: str) -> dict[str, int]:
    """Bytes of the home page and what it loads (CSS, the live script), gzip-compressed
    as the server sends them (level 9 for files the server would not compress)."""
    html = httpx.get(base).text
    parts = {"html": html.encode()}
    for ref in re.findall(r'(?:href|src)="([^"]+\.(?:css|js))"', html):
        parts[ref] = httpx.get(base + ref.lstrip("/")).content
    sizes = {name: len(gzip.compress(data, 9)) for name, data in parts.items()}
    sizes["total"] = sum(sizes.values())
    return sizes


def main(argv: list[str]) -> None:
    weight = "--weight" in argv
    args = [a for a in argv if not a.startswith("--")]
    out = Path(args[0]) if args else ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="finews-shots-"))
    upstreams = Upstreams(initial=200, interval=0)
    base_up = upstreams.start()
    env = {
        **os.environ,
        **upstreams.env(base_up),
        "FINEWS_DB": f"sqlite:///{work / 'finews.db'}",
        "FINEWS_DATA_DIR": str(work),
        "FINEWS_SITE_OUT": str(work / "site"),
        "FINEWS_HTTP_RETRIES": "0",
    }
    if supports_replay_clock():
        env["FINEWS_RUN_STALE_CLOCK"] = "newest"
    server: subprocess.Popen[bytes] | None = None
    try:
        finews(env, "fetch", "--backfill", "200")
        upstreams.fail("/v1/roll/get_roll_list", 503, 503, 503, 503)
        subprocess.run([sys.executable, "-m", "finews", "fetch"], env=env, capture_output=True)
        finews(env, "build", "--full")
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "finews", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "api/sources", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("finews serve did not start")
            time.sleep(0.2)
        pages = pick_pages(work / "site")
        shoot(base, pages, out)
        print(json.dumps(pages, ensure_ascii=False, indent=1))
        if weight:
            print(json.dumps({"home_gzip_bytes": home_weight(base)}, indent=1))
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        upstreams.stop()


def shoot(base: str, pages: dict[str, str], out: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        for size, (width, height) in SIZES.items():
            context: Any = browser.new_context(
                viewport={"width": width, "height": height},
                device_scale_factor=1,
                is_mobile=size == "phone",
            )
            page = context.new_page()
            for name, path in pages.items():
                page.goto(base + path)
                page.wait_for_load_state("load")
                page.wait_for_timeout(300)
                # the first two screens: what a reader sees before scrolling
                page.screenshot(
                    path=str(out / f"{name}-{size}.png"),
                    clip={"x": 0, "y": 0, "width": width, "height": height * 2},
                    full_page=True,
                )
            context.close()
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1:])
