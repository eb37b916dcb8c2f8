"""Build src/finews/data/securities.csv: the Hong Kong, US and Beijing-exchange stocks the
upstreams tag.

One command:  .venv/bin/python scripts/securities.py [CORPUS_FLASH_DIR]

Reads the real flashes of shared/corpus/flash (or the folder given) and collects every
non-A-share security the upstreams tag in their structured fields — 同花顺 ``stock``
(``stockMarket`` 177 Hong Kong, 169/170/185/186 US, 151 Beijing, with the Chinese name),
Eastmoney ``stockList`` (116 Hong Kong, 105/106/107 US, codes only) and 财联社 ``stock_list``
(``hk…``, ``bj…``) — with the name the upstreams give it and how often it was tagged.  The curated
columns of an existing file (``english``: English names and other names a reader types,
``short``: the short Chinese names the news uses, 美光 for 美光科技) are kept for the codes
that are still seen, so a refresh never loses the hand-written part.  Funds, futures and
indexes are left out.  Beijing-exchange stocks are A-shares, but the A-share list
(data/a_shares.csv) has none of them: without this, 920262.BJ showed as a bare code (wave 8).
"""

from __future__ import annotations

import csv
import gzip
import json
import sys
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "finews" / "data" / "securities.csv"
FLASH = ROOT.parent / "shared" / "corpus" / "flash"
THS_HK = {"177"}
THS_US = {"169", "170", "185", "186"}
THS_BJ = {"151"}
FIELDS = ["code", "name", "short", "english", "mentions"]


def _hk(code: str) -> str | None:
    digits = code.upper().removeprefix("HK")
    return f"{digits.zfill(5)}.HK" if digits.isdigit() and len(digits) <= 5 else None


def _bj(code: str) -> str | None:
    digits = code.upper().removeprefix("BJ")
    return f"{digits}.BJ" if digits.isdigit() and len(digits) == 6 else None


def _us(code: str) -> str | None:
    ticker = code.strip().upper()
    ok = ticker and ticker.replace(".", "").replace("-", "").isalnum() and len(ticker) <= 10
    return f"{ticker}.US" if ok else None


def collect(folder: Path) -> tuple[Counter[str], dict[str, Counter[str]]]:
    mentions: Counter[str] = Counter()
    names: dict[str, Counter[str]] = defaultdict(Counter)
    for path in sorted(folder.glob("*/*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                raw = record.get("raw") or {}
                seen: dict[str, str] = {}
                if record["source"] == "ths":
                    for s in raw.get("stock") or []:
                        market = str(s.get("stockMarket"))
                        code = str(s.get("stockCode") or "")
                        found = (
                            _hk(code)
                            if market in THS_HK
                            else _us(code)
                            if market in THS_US
                            else _bj(code)
                            if market in THS_BJ
                            else None
                        )
                        if found:
                            seen[found] = str(s.get("name") or "").strip()
                elif record["source"] == "eastmoney":
                    for s in raw.get("stockList") or []:
                        market, _, code = str(s).partition(".")
                        found = (
                            _hk(code)
                            if market in {"116", "128"}
                            else (_us(code) if market in {"105", "106", "107"} else None)
                        )
                        if found:
                            seen.setdefault(found, "")
                else:
                    for s in raw.get("stock_list") or []:
                        stock_id = str(s.get("StockID") or "").lower()
                        found = (
                            _hk(stock_id[2:])
                            if stock_id.startswith("hk")
                            else _bj(stock_id[2:])
                            if stock_id.startswith("bj")
                            else None
                        )
                        if found:
                            seen[found] = str(s.get("name") or "").strip()
                for code, name in seen.items():
                    mentions[code] += 1
                    if name:
                        names[code][name] += 1
    return mentions, names


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else FLASH
    mentions, names = collect(folder)
    curated: dict[str, dict[str, str]] = {}
    if OUT.exists():
        with OUT.open(encoding="utf-8") as handle:
            rows = [line for line in handle if not line.startswith("#")]
        curated = {r["code"]: r for r in csv.DictReader(rows)}
    rows_out = []
    for code, count in mentions.most_common():
        name = names[code].most_common(1)[0][0] if names[code] else ""
        old = curated.get(code, {})
        name = name or old.get("name", "")
        if not name:
            continue  # a code no upstream named (Eastmoney gives codes only)
        rows_out.append(
            {
                "code": code,
                "name": name,
                "short": old.get("short", ""),
                "english": old.get("english", ""),
                "mentions": count,
            }
        )
    with OUT.open("w", encoding="utf-8", newline="") as handle:
        handle.write(
            "# Hong Kong, US and Beijing-exchange securities tagged by the upstreams in "
            "shared/corpus/flash, "
            f"built {date.today().isoformat()} by scripts/securities.py; short and english "
            f"are curated by hand\n"
        )
        writer = csv.DictWriter(handle, FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows_out)
    print(f"{len(rows_out)} securities written to {OUT}")


if __name__ == "__main__":
    main()
