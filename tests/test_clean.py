"""The sanitiser on real Eastmoney bodies and on hostile HTML (hand-written vectors)."""

from __future__ import annotations

import re

import pytest

from conftest import DATA, JEKYLL_HANDMADE, JEKYLL_REAL, SEED, run_cli
from finews.jekyll.read import parse_post
from finews.process.clean import CLEAN_REVISION, clean_body


def test_real_eastmoney_body() -> None:
    seed = parse_post(SEED.read_text(encoding="utf-8"), str(SEED))
    cleaned = clean_body(seed.body_html, seed.url)
    assert "EM_StockImg" not in cleaned and "webquoteklinepic" not in cleaned  # chart dropped
    assert "em_media" not in cleaned and "文章来源" not in cleaned  # credit line dropped
    assert "style=" not in cleaned
    assert cleaned.count("<p>") >= 20 and "西安银行" in cleaned
    img = re.search(r"<img [^>]+>", cleaned)
    assert img and 'referrerpolicy="no-referrer"' in img.group() and 'loading="lazy"' in img.group()
    latest = JEKYLL_HANDMADE / "2022-05-26-202205262391921712.md"
    post = parse_post(latest.read_text(encoding="utf-8"), str(latest))
    body = clean_body(post.body_html, post.url)
    assert "keytip" not in body and "蔚来" in body  # stock markers reduced to their text
    assert 'rel="noopener noreferrer nofollow"' in body


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        '<a href="javascript:alert(1)">x</a>',
        '<a href="JaVaScRiPt:alert(1)">x</a>',
        '<a href="&#106;avascript:alert(1)">x</a>',
        "<iframe src=//evil.example></iframe>",
        "<form action=//evil.example><input name=q></form>",
        '<div style="position:fixed;top:0;left:0;width:100%;height:100%">over</div>',
        "<svg><script>alert(1)</script></svg>",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        '<object data="data:text/html,<script>alert(1)</script>"></object>',
        "<body onload=alert(1)>",
        '<meta http-equiv="refresh" content="0;url=//evil.example">',
        "<p>　　全角缩进的段落</p>",
    ],
)
def test_hostile_html_is_neutralised(hostile: str) -> None:
    cleaned = clean_body(hostile, "https://finance.eastmoney.com/a/1.html").lower()
    for bad in ["<script", "onerror", "onload", "javascript:", "<iframe", "<form", "<input",
                "style=", "<object", "<meta", "<svg"]:  # fmt: skip
        assert bad not in cleaned, (hostile, cleaned)
    if "全角" in hostile:
        assert cleaned == "<p>全角缩进的段落</p>"


def test_relative_urls_become_absolute() -> None:
    cleaned = clean_body(
        '<p><a href="/a/2.html">x</a><img src="//img.example.com/p.png"></p>',
        "http://finance.eastmoney.com/a/1.html",
    )
    assert 'href="http://finance.eastmoney.com/a/2.html"' in cleaned
    assert 'src="http://img.example.com/p.png"' in cleaned


def test_jekyll_export_can_write_the_clean_body(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "f.db")
    run_cli("--db", db, "import", "jekyll", str(SEED))
    run_cli("--db", db, "export", "jekyll", str(tmp_path / "raw"))
    run_cli("--db", db, "export", "jekyll", str(tmp_path / "clean"), "--clean-body")
    name = "_posts/2021-12-29-NW202112292230344237.md"
    assert (tmp_path / "raw" / name).read_bytes() == SEED.read_bytes()
    clean = (tmp_path / "clean" / name).read_text(encoding="utf-8")
    assert "EM_StockImg" not in clean and clean.startswith("---\nlayout: post\n")


def test_eastmoney_boilerplate_paragraphs_are_dropped() -> None:
    body = '<p>正文。</p><p class="em_ad">主力资金加仓名单实时更新，点击查看&gt;&gt;</p><p>续。</p>'
    assert clean_body(body) == "<p>正文。</p><p>续。</p>"


REVISION_DIGESTS = {1: "bec24e2d24ba92f9e504369b5326cefed47bc70133d6da463af483cf4c075629"}
"""What :func:`clean_body` made of the test bodies at each ``CLEAN_REVISION`` (the store
keeps the cleaned body stamped with the revision; a change in the output needs a new one)."""


def _cleaned_corpus_digest() -> str:
    import hashlib

    h = hashlib.sha256()
    bodies = []
    for path in [*sorted((JEKYLL_REAL / "_posts").glob("2*.md")), SEED]:
        post = parse_post(path.read_text(encoding="utf-8"), str(path))
        bodies.append((post.body_html, post.url))
    vectors = (DATA / "xss_vectors.txt").read_text(encoding="utf-8").split("\n")
    bodies += [(v, "https://finance.eastmoney.com/a/1.html") for v in vectors if v]
    for body, url in bodies:
        h.update(clean_body(body, url).encode("utf-8") + b"\0")
    return h.hexdigest()


def test_the_clean_revision_is_raised_when_the_output_changes() -> None:
    assert len(REVISION_DIGESTS) == CLEAN_REVISION
    assert _cleaned_corpus_digest() == REVISION_DIGESTS[CLEAN_REVISION], (
        "clean_body's output changed: raise CLEAN_REVISION (finews.process.clean) and "
        "record the new digest in REVISION_DIGESTS"
    )
