"""Importing finews's own Jekyll export back recognises the stored articles (issue #13)."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

from conftest import SEED, run_cli
from finews.store import Store
from test_search import cls_flashes


def _stats(db: str) -> dict[str, object]:
    result = run_cli("--db", db, "stats", "--json")
    assert result.returncode == 0, result.stderr
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_export_then_import_into_the_same_store_adds_nothing(
    tmp_path: Path, upstream_env: dict[str, str]
) -> None:
    db = str(tmp_path / "f.db")
    env = {**upstream_env, "FINEWS_EASTMONEY_FULLTEXT": "0"}
    fetched = run_cli("--db", db, "fetch", "eastmoney.fast", "eastmoney.column", env=env)
    assert fetched.returncode == 0, fetched.stderr
    with Store.open(f"sqlite:///{db}") as store:
        store.save(cls_flashes())  # a second family: file names carry the cls- prefix
        # HAND-MADE: a feed's article, whose id is its URL (not safe in a file name): its
        # post keeps the id in its link line, so re-import still recognises it (a review's
        # case: linked to its own page, it came back as a new article)
        first = cls_flashes()[0]
        store.save(
            [
                replace(
                    first,
                    source="feed.blog",
                    upstream_id="https://blog.example.com/p/1",
                    url="https://blog.example.com/p/1",
                    media="某博客",
                )
            ]
        )
    assert run_cli("--db", db, "import", "jekyll", str(SEED)).returncode == 0
    before = _stats(db)
    out = tmp_path / "site"
    assert run_cli("--db", db, "export", "jekyll", str(out)).returncode == 0
    posts = sorted((out / "_posts").glob("*.md"))
    assert any(p.name.split("-")[3] == "cls" for p in posts)
    # a 财联社 post links to its telegraph, not to Eastmoney's share page with a 财联社 id
    for post in (p for p in posts if p.name.split("-")[3] == "cls"):
        ident = post.stem.split("-")[-1]
        text = post.read_text(encoding="utf-8")
        link = text.split("\n\n<", 1)[1].split(">", 1)[0]  # the post's link line
        assert "cls.cn/" in link and ident in link and "infoCode" not in text
    result = run_cli("--db", db, "import", "jekyll", str(out / "_posts"), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    jekyll_articles = 1  # the seed: imported as jekyll, recognised by its own key
    assert report["new"] == 0 and report["updated"] == 0
    assert report["unchanged"] == jekyll_articles
    assert report["recognised"] == len(posts) - jekyll_articles
    assert _stats(db) == before  # nothing duplicated, no new source `jekyll` rows


def test_the_same_post_in_two_folders_is_one_article(tmp_path: Path) -> None:
    db = str(tmp_path / "f.db")
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        shutil.copy(SEED, tmp_path / folder / "2021-12-29-NW202112292230344237.md")
    result = run_cli("--db", db, "import", "jekyll", str(tmp_path / "a"), str(tmp_path / "b"))
    assert result.returncode == 0, result.stderr
    assert "1 new" in result.stdout and "1 unchanged" in result.stdout
    assert _stats(db)["articles"] == 1
