"""Issue #9: every command works on ``FINEWS_DB=postgresql://…`` and gives what it gives on
SQLite — the same data in, the same site, search, exports and API out."""

from __future__ import annotations

import concurrent.futures
import contextlib
import filecmp
import json
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import JEKYLL_REAL, SEED, postgres_url, run_cli
from finews.site import SiteOptions, build_site
from finews.store import Store
from sitedata import BASE_URL, populate
from test_search import cls_flashes
from test_web import _read_events
from webserver import serving


def _differences(a: Path, b: Path) -> list[str]:
    """Files that differ or exist on one side only, under two folders (the build's own
    manifest left aside: it records paths of the database it came from)."""
    found: list[str] = []

    def walk(cmp: filecmp.dircmp[str], prefix: str) -> None:
        found.extend(prefix + n for n in cmp.left_only + cmp.right_only if n != ".finews")
        _, mismatch, errors = filecmp.cmpfiles(cmp.left, cmp.right, cmp.common_files, shallow=False)
        found.extend(prefix + n for n in mismatch + errors)
        for name, sub in cmp.subdirs.items():
            if name != ".finews":
                walk(sub, f"{prefix}{name}/")

    walk(filecmp.dircmp(a, b), "")
    return found


def _pipeline(db: str, out: Path, upstream_env: dict[str, str]) -> dict[str, Any]:
    env = {**upstream_env, "FINEWS_DB": db, "FINEWS_DATA_DIR": str(out / "data")}
    results: dict[str, Any] = {}
    imported = run_cli("import", "jekyll", str(JEKYLL_REAL), str(SEED), "--json", env=env)
    assert imported.returncode == 3, imported.stderr  # the one real post without a title
    results["import"] = json.loads(imported.stdout)["new"]
    fetched = run_cli("fetch", "--json", env=env)
    assert fetched.returncode == 0, fetched.stderr
    results["fetch"] = sorted(
        (r["source"], r["new"]) for r in json.loads(fetched.stdout)["sources"]
    )
    built = run_cli("build", "--out", str(out / "site"), "--json", env=env)
    assert built.returncode == 0, built.stderr
    # the same matches; the order by relevance may differ (BM25 on SQLite, ts_rank on
    # PostgreSQL), the order by time may not
    for query in ("西安银行 抗疫", "600928", "央行", '"人民银行" -降准', "茅台 OR"):
        found = run_cli("search", query, "--recent", "--limit", "100", "--json", env=env)
        assert found.returncode == 0, found.stderr
        answer = json.loads(found.stdout)
        results[query] = (answer["total"], [r["id"] for r in answer["results"]])
    exported = run_cli("export", "json", str(out / "export.jsonl"), env=env)
    assert exported.returncode == 0, exported.stderr
    results["export"] = (out / "export.jsonl").read_text(encoding="utf-8")
    jekyll = run_cli("export", "jekyll", str(out / "jekyll"), "--json", env=env)
    assert jekyll.returncode == 0, jekyll.stderr
    stats = json.loads(run_cli("stats", "--json", env=env).stdout)
    results["stats"] = (stats["articles"], stats["sources"], stats["media"])
    return results


@pytest.mark.timeout(300)
def test_every_command_gives_the_same_on_postgresql_as_on_sqlite(
    tmp_path: Path, upstream_env: dict[str, str]
) -> None:
    # the two pipelines are subprocesses on separate stores: run side by side
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        pg_run = pool.submit(_pipeline, postgres_url(), tmp_path / "pg", upstream_env)
        lite_run = pool.submit(
            _pipeline, f"sqlite:///{tmp_path / 'lite.db'}", tmp_path / "lite", upstream_env
        )
        pg, lite = pg_run.result(), lite_run.result()
    assert pg["import"] == 97 and pg["stats"][0] > 97
    assert pg["西安银行 抗疫"][0] >= 1 and pg["600928"][0] >= 1 and pg["央行"][0] > 1
    for key in lite:
        assert pg[key] == lite[key], key
    assert _differences(tmp_path / "pg" / "site", tmp_path / "lite" / "site") == []
    assert _differences(tmp_path / "pg" / "jekyll", tmp_path / "lite" / "jekyll") == []


def test_two_web_apps_on_one_postgresql_store_both_see_a_new_article(tmp_path: Path) -> None:
    """Several ``finews serve`` behind a load balancer: each one answers from the shared
    store and pushes an article another process stored to its live clients."""
    url = postgres_url()
    out = tmp_path / "site"
    with Store.open(url) as store:
        populate(store)
        build_site(store, out, SiteOptions(base_url=BASE_URL))
        with serving(url, out) as first, serving(url, out) as second:
            found: dict[str, list[dict[str, Any]]] = {first: [], second: []}
            stop = threading.Event()
            with contextlib.ExitStack() as stack:
                for base in (first, second):
                    client = stack.enter_context(httpx.Client(base_url=base, timeout=10))
                    response = stack.enter_context(client.stream("GET", "api/stream"))
                    threading.Thread(
                        target=_read_events, args=(response, found[base], stop), daemon=True
                    ).start()
                time.sleep(0.3)
                fresh = replace(cls_flashes()[1], upstream_id="both-1", title="两个进程都看到")
                with Store.open(url) as writer:  # another process's store, as a worker's
                    writer.save([fresh])
                deadline = time.monotonic() + 5
                while not all(found.values()) and time.monotonic() < deadline:
                    time.sleep(0.05)
                stop.set()
            for base in (first, second):
                assert [e["upstream_id"] for e in found[base]][:1] == ["both-1"], base
                one = httpx.get(base + f"api/articles/{fresh.source}/both-1")
                assert one.status_code == 200 and one.json()["title"] == "两个进程都看到"
                assert httpx.get(base + "search", params={"q": "两个进程"}).status_code == 200
