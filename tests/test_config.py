"""Settings: one declared table, a TOML file, FINEWS_* variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from finews.config import describe_settings, load_settings, parse_override
from finews.errors import ConfigError


def test_defaults(tmp_path: Path) -> None:
    s = load_settings(env={"XDG_DATA_HOME": str(tmp_path)})
    assert s.db_url == f"sqlite:///{tmp_path / 'finews' / 'finews.db'}"
    assert s.eastmoney.fast_columns == (102,)
    assert s.http.timeout > 0
    assert s.jekyll.site_url == "//finews.withounder.com"


def test_toml_then_environment(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        'db = "x.db"\n[http]\ntimeout = 3.5\n[eastmoney]\nnews_columns = [344, 1207]\n'
        '[upstream_override]\n"np-listapi.eastmoney.com" = "http://127.0.0.1:9/"\n',
        encoding="utf-8",
    )
    s = load_settings(cfg, env={"FINEWS_HTTP_TIMEOUT": "7"})
    assert s.http.timeout == 7.0
    assert s.eastmoney.news_columns == (344, 1207)
    assert s.upstream_override == {"np-listapi.eastmoney.com": "http://127.0.0.1:9"}
    assert s.db_url.endswith("/x.db")
    env = {
        "FINEWS_CONFIG": str(cfg),
        "FINEWS_DB": "postgresql://u@h/db",
        "FINEWS_EASTMONEY_FAST_COLUMNS": "102,103",
        "FINEWS_UPSTREAM_OVERRIDE": "a.com=http://127.0.0.1:1,b.com=http://127.0.0.1:2",
    }
    s = load_settings(env=env)
    assert s.db_url == "postgresql://u@h/db"
    assert s.eastmoney.fast_columns == (102, 103)
    assert s.upstream_override == {"a.com": "http://127.0.0.1:1", "b.com": "http://127.0.0.1:2"}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"FINEWS_HTTP_TIMEOUT": "soon"}, r"http\.timeout"),
        ({"FINEWS_HTTP_TIMEOUT": "-1"}, "positive"),
        ({"FINEWS_JEKYLL_ASCII_SLUGS": "maybe"}, r"ascii_slugs"),
        ({"FINEWS_UPSTREAM_OVERRIDE": "nohost"}, "host=scheme"),
        ({"FINEWS_CONFIG": "/nonexistent/finews.toml"}, "does not exist"),
    ],
)
def test_bad_settings_are_config_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(env=env)


def test_unknown_and_malformed_files(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[http]\ntimeuot = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"http\.timeuot"):
        load_settings(cfg, env={})
    cfg.write_text("[http\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"c\.toml"):
        load_settings(cfg, env={})


def test_override_parsing() -> None:
    assert parse_override(" A.com = http://x:1/ ,") == {"a.com": "http://x:1"}


def test_every_setting_is_documented() -> None:
    doc = (Path(__file__).parents[1] / "docs" / "configuration.md").read_text(encoding="utf-8")
    for dotted, env_name, _default, help_text in describe_settings():
        assert help_text, dotted
        assert f"`{dotted}`" in doc, f"{dotted} missing from docs/configuration.md"
        assert f"`{env_name}`" in doc


def test_config_hides_secrets_unless_asked(tmp_path: Path) -> None:
    """Wave 13's walk: `finews config` printed the MCP token in clear, and settings get
    pasted into bug reports.  The token, a database or Redis password and webhook
    addresses past their host are hidden; ``--show-secrets`` prints them (all made-up)."""
    import json

    from conftest import run_cli

    config = tmp_path / "config.toml"
    config.write_text(
        # what wave 13's review found still printed: an override's password, a summarizer's
        # key, a request shape's headers and token
        'upstream_override = { "www.cls.cn" = "https://bob:0verride@proxy.example" }\n'
        '[subscribers.desk]\nwebhooks = ["feishu:https://open.feishu.cn/open-apis/bot/v2/hook/'
        'f00d-cafe"]\n'
        '[briefing]\nsummarizer = "llm -m gpt-4o --key sk-SUMM4RY"\n'
        '[[sources.shapes]]\nsource = "cls.telegraph"\nname = "mine"\n'
        'base = "https://www.cls.cn"\nparams = { token = "P4RAM", page = "1" }\n'
        'headers = { Authorization = "Bearer H3ADER", Cookie = "sid=C00KIE" }\n',
        encoding="utf-8",
    )
    env = {
        "FINEWS_MCP_TOKEN": "s3cret-token",
        "FINEWS_DB": "postgresql+psycopg://finews:pa55word@127.0.0.1:5432/finews?password=qu3ry",
        "FINEWS_WORKER_REDIS": "redis://:r3dis-pass@127.0.0.1:6379/0",
        "FINEWS_ALERTS_WEBHOOKS": (
            "dingtalk:https://oapi.dingtalk.com/robot/send?access_token=d1ng,"
            "telegram:https://api.telegram.org/bot123:T0KEN/sendMessage?chat_id=42"
        ),
    }
    secrets = (
        "s3cret-token", "pa55word", "qu3ry", "r3dis-pass", "f00d-cafe", "d1ng", "T0KEN",
        "0verride", "sk-SUMM4RY", "P4RAM", "H3ADER", "C00KIE",
    )  # fmt: skip
    for args in ((), ("--json",)):
        shown = run_cli("--config", str(config), "config", *args, env=env)
        assert shown.returncode == 0, shown.stderr
        assert not [s for s in secrets if s in shown.stdout], shown.stdout
    data = json.loads(run_cli("--config", str(config), "config", "--json", env=env).stdout)
    assert data["db_url"] == "postgresql+psycopg://finews:***@127.0.0.1:5432/finews?password=***"
    assert data["briefing"]["summarizer"] == "llm -m gpt-4o --key ***"
    assert data["sources"]["shapes"][0]["params"]["page"] == "1"
    assert data["alerts"]["webhooks"] == [
        "dingtalk:https://oapi.dingtalk.com/(hidden: --show-secrets)",
        "telegram:https://api.telegram.org/(hidden: --show-secrets)",
    ]
    assert data["mcp"]["token"] == "(hidden: --show-secrets)"
    full = run_cli("--config", str(config), "config", "--json", "--show-secrets", env=env)
    assert all(s in full.stdout for s in secrets), full.stdout
