"""Same story or not: the judgement every story (issue #10) is built from.

Two reports are one story when they are about the same thing and, where both give a figure
for the same quantity, the figures agree.  Text similarity alone cannot tell that: the
half-year results of two companies share most of a templated flash, and an index "跌幅扩大至
2%" then "至3%" differ by one character.  So the judgement looks at what the news is about
as well as how it is worded:

- **wording**: character 3-gram and 2-gram Jaccard of the two *leads* (headline, then the
  text with its repeated 【headline】 and dateline taken out), and the containment of the
  shorter text in the longer one (a short flash against the long report it came from);
- **entities**: the stock codes of both (upstream tags and the tagger's), and the headline
  subject before "：" (长电科技：… vs 华测检测：…);
- **figures**: the numbers of each headline with their unit, matched against the other
  report's numbers within rounding (12.5% = 12.47%; 2% ≠ 3%);
- **rare words**: the character pairs both texts share, each weighed by how rare it is
  in the corpus (inverse document frequency, from ``data/story_bigrams.tsv``), counting
  only the rare ones — a shared 乙支自由之盾 or HBM4E says more than a shared 公司 or 同比;
- **time**: hours between the two.

A logistic regression over these features (weights in ``data/story_model.json``, trained by
``bench/story_quality.py`` on the tuning half of the labelled pairs of ``bench/quality/``)
gives the probability that a pair is one story.  Pure functions: no I/O but the model file.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from typing import Any

from finews.model import Article
from finews.process.text import body_text

LEAD = 100
"""Characters of a normalised lead: enough for a headline and its first sentence."""
TEXT = 300
"""Characters of the normalised text a short report is looked for in."""
WINDOW = 24 * 3600
"""A story takes reports published within this many seconds of its first report: a story
of flashes spans hours, not days (the reprints of the labelled set came within 14 h)."""
MAX_COMPARED = 6
"""Members of a story among a new report's candidates it is compared with, the most similar
first (the story's first report is compared too when it is not among them): bounds the work
per article."""
MIN_LINK = 0.15
"""No compared member may be below this probability: a report that one member is clearly
not about does not join (keeps chains A~B~C apart when A and C share nothing)."""
SAME_HEADLINE_WITHIN: int | None = 600
"""Two reports with the same headline (normalised, at least :data:`SAME_HEADLINE_MIN`
characters) published within this many seconds are one story, whatever their texts say
(None: the rule is off).  财联社 and 同花顺 put one headline over differently written texts
(韩国总统李在明会见王毅: the texts share a quarter of their 3-grams, the model said 0.77).
On the labelled set's tuning half, 178 pairs have one headline within 10 minutes: all SAME
(the model already found them); 3 more a day apart or later are DIFFERENT.  Chosen on the
tuning half as stored (docs/quality.md, wave 9)."""
SAME_HEADLINE_MIN = 8
TWIN: float | None = 0.98
"""A report at least this likely the same story as one of a story's compared reports (its
first report among them) joins the story, whatever the others say (None: the rule is off).
Such a report is a copy of a member — the same text under another outlet's name — and
lands where the member is: it widens the story no further than the member did, so no chain
forms.  Without it, an outlet's copy of a story's second report was refused when its own
earlier, differently worded report was in the story too (the mean fell below the
threshold), and the copy started a story of its own beside its twin.  0.95 and 0.98 gave
the same tuning-half figures as stored; 0.98 joins fewer reports over the corpus (docs/
quality.md, wave 9)."""

_BRACKETED = re.compile(r"^\s*【([^】]{0,120})】")
_DATELINE = re.compile(
    r"^\s*(?:[（(]?[^，,。（）()]{0,14}?)?\d{1,2}月\d{1,2}日"
    r"(?:电|讯|消息|晚间|晚|早间|早|午间|下午|上午)?\s*[，,]?"
)
_CREDIT = re.compile(r"[（(][^（）()]{1,15}[）)]\s*$")
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
_SUBJECT = re.compile(r"^([^：:]{2,16})[：:]")
_NUMBER = re.compile(
    r"(?<![\d.])(\d+(?:,\d{3})*(?:\.\d+)?)\s*"
    r"(%|％|个百分点|万亿|亿|万|bp|基点|倍|点(?!\d)|美元|港元|元|桶|吨|人|名|家|艘|例|架)"
)
_SCALE = {"万亿": 1e12, "亿": 1e8, "万": 1e4}
_UNIT_CLASS = {
    "%": "%",
    "％": "%",
    "个百分点": "pp",
    "bp": "bp",
    "基点": "bp",
    "倍": "x",
    "点": "pt",
    "桶": "bbl",
    "吨": "t",
    "人": "people",
    "名": "people",
    "家": "firms",
    "艘": "ships",
    "例": "cases",
    "架": "aircraft",
}


@dataclass(frozen=True, slots=True)
class Figure:
    """A number with its unit class, and how precisely it was written."""

    value: float
    unit: str
    decimals: int

    def agrees(self, other: Figure) -> bool:
        """Same quantity within rounding: either written value rounds from the other."""
        if self.unit != other.unit:
            return False
        a, b = self.value, other.value
        if a == b:
            return True
        tolerance = 0.5 * 10.0 ** -min(self.decimals, other.decimals)
        if self.unit in {"money"}:  # 1761.69亿 vs 1762亿: scaled values, compare relatively
            return abs(a - b) <= 0.006 * max(abs(a), abs(b))
        return abs(a - b) <= tolerance + 1e-9


@dataclass(frozen=True)
class Facts:
    """What the judgement needs of one report, small enough to keep beside its signature.

    The n-gram sets a comparison reads are computed once per object (a stored report is
    compared with many new ones)."""

    published: int
    source: str
    title: str
    lead: str
    text: str
    subject: str
    codes: frozenset[str]
    headline_figures: tuple[Figure, ...]
    figures: tuple[Figure, ...]

    @cached_property
    def lead3(self) -> frozenset[str]:
        return _grams(self.lead, 3)

    @cached_property
    def lead2(self) -> frozenset[str]:
        return _grams(self.lead, 2)

    @cached_property
    def title2(self) -> frozenset[str]:
        return _grams(self.title, 2)

    @cached_property
    def text3(self) -> frozenset[str]:
        return _grams(self.text, 3)

    @cached_property
    def text2(self) -> frozenset[str]:
        return _grams(self.text, 2)

    @cached_property
    def text8(self) -> frozenset[str]:
        return _grams(self.text, 8)

    @cached_property
    def first_org(self) -> str:
        return _first_org(self.lead)

    def to_json(self) -> str:
        return self.json

    @cached_property
    def json(self) -> str:
        """The facts as stored beside the signature (made once: the writer asks twice, a
        helper process makes it before sending the facts)."""
        return json.dumps(
            {
                "p": self.published,
                "s": self.source,
                "h": self.title,
                "l": self.lead,
                "t": self.text,
                "j": self.subject,
                "c": sorted(self.codes),
                "hf": [[f.value, f.unit, f.decimals] for f in self.headline_figures],
                "f": [[f.value, f.unit, f.decimals] for f in self.figures],
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, data: str) -> Facts:
        d = json.loads(data)
        return cls(
            published=int(d["p"]),
            source=str(d["s"]),
            title=str(d["h"]),
            lead=str(d["l"]),
            text=str(d["t"]),
            subject=str(d["j"]),
            codes=frozenset(d["c"]),
            headline_figures=tuple(Figure(float(v), str(u), int(n)) for v, u, n in d["hf"]),
            figures=tuple(Figure(float(v), str(u), int(n)) for v, u, n in d["f"]),
        )


_PRECISE = re.compile(
    r"(?<![\d.,A-Za-z])((?:\d{1,3}(?:,\d{3})+|\d{1,7})\.\d{2,})(?![\d.]|\s*(?:版|大促|晚会|购物节))"
)
"""A number written to two decimals or more, with no unit: a price or a rate (人民币兑美元中间价
报6.7898), which two reports give alike only when they tell the same fixing.  Not a version
(v2.10, 1.10版) nor a date of a shopping festival (6.18大促, 3.15晚会)."""


def figures(text: str) -> tuple[Figure, ...]:
    """The numbers of ``text`` that carry a unit, and the precise ones that need none
    (dates, times and bare counts left out)."""
    found = []
    taken: list[tuple[int, int]] = []  # the spans of numbers read with their unit
    for m in _NUMBER.finditer(text):
        taken.append(m.span())
        raw, unit = m.group(1).replace(",", ""), m.group(2)
        value = float(raw)
        decimals = len(raw.split(".")[1]) if "." in raw else 0
        if unit == "点" and decimals == 0 and value < 100:
            continue  # 9点30分, 3点: a time, not index points
        if unit in _SCALE or unit in {"元", "美元", "港元"}:
            # the currency word after 亿 is not matched separately: 1761.69亿美元 → money
            value *= _SCALE.get(unit, 1.0)
            found.append(Figure(value, "money", decimals))
            continue
        found.append(Figure(value, _UNIT_CLASS[unit], decimals))
    for m in _PRECISE.finditer(text):
        # not a part of one read with its unit (the 234.56 of 1,234.56亿)
        if not any(start <= m.start(1) < end for start, end in taken):
            raw = m.group(1).replace(",", "")
            found.append(Figure(float(raw), "num", len(raw.split(".")[1])))
    return tuple(found)


def _headline_and_text(article: Article) -> tuple[str, str]:
    """The headline and the text with the repeated 【headline】 and the dateline removed."""
    text = body_text(article.body_html).strip() or article.digest.strip()
    title = article.title.strip().removesuffix("…")
    bracketed = _BRACKETED.match(text)
    if bracketed:
        if not title:
            title = bracketed.group(1)
        text = text[bracketed.end() :]
    text = _DATELINE.sub("", text, count=1)
    text = _CREDIT.sub("", text.strip())
    return title, text


def _norm(text: str) -> str:
    return _NOISE.sub("", text)


def facts(article: Article) -> Facts:
    """The facts of one report (after stock tagging, so the codes include the tagger's)."""
    title, text = _headline_and_text(article)
    ntitle, ntext = _norm(title), _norm(text)
    if ntitle and ntext.startswith(ntitle[: max(8, len(ntitle) - 1)]):
        lead = ntext
    else:
        lead = ntitle + ntext
    subject = ""
    m = _SUBJECT.match(title)
    if m:
        subject = _norm(m.group(1))
    head_figures = figures(title) if title else figures(text[:60])
    return Facts(
        published=int(article.published.timestamp()),
        source=article.source,
        title=ntitle[:80],
        lead=lead[:LEAD],
        text=(ntitle + ntext)[:TEXT],
        subject=subject,
        codes=frozenset(s.code for s in article.stocks if s.code and not s.code.startswith("BK")),
        headline_figures=head_figures,
        figures=figures(title + " " + text[:TEXT]),
    )


def _grams(text: str, n: int) -> frozenset[str]:
    return frozenset([text[i : i + n] for i in range(len(text) - n + 1)])


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared)


def _dice(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


def _subjects_differ(a: str, b: str) -> bool:
    """Two headline subjects name different things (外汇局 ~ 国家外汇管理局 do not)."""
    if not a or not b or a in b or b in a:
        return False
    shared = len(set(a) & set(b))
    return shared / min(len(set(a)), len(set(b))) < 0.5


_SESSION = re.compile(r"(开盘|午评|午盘|收评|收盘|盘前|夜盘)")
_SESSION_OF = {"午盘": "午评", "收盘": "收评"}
_MARKET = re.compile(r"(港股|a股|美股|etf|期货|科创板|创业板)", re.IGNORECASE)


def market_reviews_differ(a: Facts, b: Facts) -> bool:
    """Two market reviews of another session or market: 午评：… and 收评：… are the midday and
    the close, 港股午评 and A股午评 two markets — whatever their figures share.  A reader's
    walk (wave 15) found 财联社's 午评 (科创50指数半日涨超3%) and its 收评 of that afternoon
    in one story, p 0.87: the same market in the same words, 3.5 hours apart."""
    sessions = [_SESSION.search(f.subject) for f in (a, b)]
    if not (sessions[0] and sessions[1]):
        return False
    first, second = (_SESSION_OF.get(m.group(1), m.group(1)) for m in sessions if m)
    if first != second:
        return True
    markets = [_MARKET.search(f.subject) for f in (a, b)]
    return bool(
        markets[0] and markets[1] and markets[0].group(1).lower() != markets[1].group(1).lower()
    )


def _figures_compare(a: Facts, b: Facts) -> tuple[float, float]:
    """(conflict, agreement): headline figures of one report that the other contradicts
    (it gives the same kind of figure in its headline, none agreeing) or confirms."""
    conflict = agree = 0.0
    for mine, other_head, other_all in (
        (a.headline_figures, b.headline_figures, b.figures),
        (b.headline_figures, a.headline_figures, a.figures),
    ):
        for f in mine:
            if any(f.agrees(g) for g in other_all):
                agree += 1
            elif any(g.unit == f.unit for g in other_head):
                conflict += 1
    return conflict, agree


_ORG = re.compile(
    r"([\u4e00-\u9fffA-Za-z（）()]{2,24}?(?:股份有限公司|有限责任公司|有限公司|集团|银行|证券|基金|控股|科技))"
)


def _first_org(text: str) -> str:
    """The first company-like name of a lead (…股份有限公司, …集团, …银行)."""
    m = _ORG.search(text[:60])
    return m.group(1) if m else ""


def plausible(a: Facts, b: Facts) -> bool:
    """Whether a pair shares enough wording to be worth the full judgement: leads sharing
    5 % of their 3-grams, or a quarter of the shorter text found in the longer.  No pair of
    the labelled set the model gives even half its threshold falls below both; most
    candidates of a new report do, and skip the rest of the features."""
    return _plausible(a, b, _jaccard(a.lead3, b.lead3))


def _plausible(a: Facts, b: Facts, lead_j3: float) -> bool:
    if lead_j3 >= 0.05:
        return True
    short, long_ = (a, b) if len(a.text) <= len(b.text) else (b, a)
    return bool(short.text3) and len(short.text3 & long_.text3) >= 0.25 * len(short.text3)


RARE_IDF = 7.0
"""A shared character pair counts as a rare word when its inverse document frequency is
above this (found in fewer than about 75 of the corpus's 82k flashes).  Chosen on the
tuning half's cross-validation (6 and 8 did as well or a little worse)."""


@lru_cache(maxsize=1)
def _idf_table() -> tuple[dict[str, float], float]:
    """Character pair → inverse document frequency over the corpus (``bench/story_idf.py``),
    and the weight of a pair not in the table (rarer than the table's floor)."""
    data = (resources.files("finews") / "data" / "story_bigrams.tsv").read_text("utf-8")
    header: dict[str, int] = {}
    counts: dict[str, int] = {}
    for line in data.splitlines():
        gram, _, count = line.partition("\t")
        if gram.startswith("#"):
            header[gram[1:]] = int(count)
        elif gram:
            counts[gram] = int(count)
    total = header["flashes"] + 1
    weights: dict[str, float] = {}
    for gram, found in counts.items():
        idf = math.log(total / (found + 1))
        weights[gram] = idf if idf > RARE_IDF else 0.0  # a common pair: no weight
    return weights, math.log(total / header["floor"])


def rare_shared(a: Facts, b: Facts) -> float:
    """log(1 + the summed rarity of the rare character pairs both texts share)."""
    weights, unlisted = _idf_table()
    total = 0.0
    for gram in a.text2 & b.text2:
        total += weights.get(gram, unlisted)
    return math.log1p(total)


FEATURES = (
    "lead_j3",
    "lead_j2",
    "containment",
    "title_dice",
    "codes_shared",
    "codes_disjoint",
    "subjects_differ",
    "figures_conflict",
    "figures_agree",
    "log_hours",
    "same_source",
    "containment8",
    "names_differ",
    "similar_but_names_differ",
    "rare_shared",
)


def features(a: Facts, b: Facts) -> list[float]:
    """The pair's features, in the order of :data:`FEATURES`."""
    return _features(a, b, _jaccard(a.lead3, b.lead3))


def _features(a: Facts, b: Facts, lead_j3: float) -> list[float]:
    """:func:`features` with the leads' 3-gram Jaccard given (the judgement computed it
    for :func:`plausible` first)."""
    short, long_ = (a, b) if len(a.text) <= len(b.text) else (b, a)
    gs, gl = short.text3, long_.text3
    containment = len(gs & gl) / len(gs) if gs else 0.0
    conflict, agree = _figures_compare(a, b)
    hours = abs(a.published - b.published) / 3600
    g8s, g8l = short.text8, long_.text8
    names_differ = (
        _subjects_differ(a.subject, b.subject)
        or _subjects_differ(a.first_org, b.first_org)
        or bool(a.codes and b.codes and not a.codes & b.codes)
    )
    return [
        lead_j3,
        _jaccard(a.lead2, b.lead2),
        containment,
        _dice(a.title2, b.title2),
        1.0 if a.codes & b.codes else 0.0,
        1.0 if a.codes and b.codes and not a.codes & b.codes else 0.0,
        1.0 if _subjects_differ(a.subject, b.subject) else 0.0,
        min(conflict, 2.0),
        min(agree, 3.0),
        math.log1p(hours),
        1.0 if a.source == b.source else 0.0,
        len(g8s & g8l) / len(g8s) if g8s else 0.0,
        1.0 if names_differ else 0.0,
        lead_j3 if names_differ else 0.0,
        rare_shared(a, b),
    ]


SAME_HEADLINE_P = 0.97
"""The probability :meth:`Model.probability` gives at least a pair :func:`same_headline`
holds for: above the threshold, below :data:`TWIN` — one headline over two texts makes the
pair one story, not one text a copy of the other (a twin joins a story whatever its other
members say; a same-headline pair must agree with them as a whole)."""


def same_headline(a: Facts, b: Facts) -> bool:
    """The same headline within :data:`SAME_HEADLINE_WITHIN` seconds — a headline of its
    own, not the first words of an untitled flash's text (据美国国家公路交通安全管理局(NHTSA)
    报告… opened 财联社's telegraphs of a Toyota and a BMW recall ten minutes apart)."""
    return (
        SAME_HEADLINE_WITHIN is not None
        and len(a.title) >= SAME_HEADLINE_MIN
        and a.title == b.title
        and abs(a.published - b.published) <= SAME_HEADLINE_WITHIN
        and not _opens_text(a)
        and not _opens_text(b)
    )


SAME_LEAD_MIN = 16
"""Characters of normalised lead two reports must both have for :func:`same_lead`."""


def same_lead(a: Facts, b: Facts) -> bool:
    """The same lead, character for character once normalised (headline repeats,
    datelines and punctuation gone), within :data:`SAME_HEADLINE_WITHIN` seconds: one
    outlet's copy of another's flash, whatever headline each put on it — 东方财富's
    【英伟达股价上涨1.05%】英伟达股价上涨1.05%，报227.525美元/股… over 财联社's untitled telegraph
    of the same second (the model: 0.76, a short template's words being common; wave 12's
    walk).  Numbers are part of the lead, so another tally is another lead — and as the
    normalised lead has lost its decimal points (涨1.05% and 涨10.5% both read 涨105), the
    figures must not differ either."""
    return (
        SAME_HEADLINE_WITHIN is not None
        and len(a.lead) >= SAME_LEAD_MIN
        and a.lead == b.lead
        and abs(a.published - b.published) <= SAME_HEADLINE_WITHIN
        and not _figures_differ(a, b)
    )


def _figures_differ(a: Facts, b: Facts) -> bool:
    """A figure of one report whose kind the other gives, none of them agreeing with it."""
    return any(
        any(g.unit == f.unit for g in theirs) and not any(f.agrees(g) for g in theirs)
        for mine, theirs in ((a.figures, b.figures), (b.figures, a.figures))
        for f in mine
    )


_NORMALISED_DATELINE = re.compile(r"^\D{0,14}?\d{1,2}月\d{1,2}日(?:电|讯|消息)?")


def _opens_text(f: Facts) -> bool:
    """Whether the headline is the start of the text (an untitled flash's, cut from it) —
    also when the derived headline kept a dateline the text lost (新华社北京6月16日电…)."""
    rest = f.text[len(f.title) :]
    return any(
        title and rest.startswith(title[: max(SAME_HEADLINE_MIN, len(title) - 1)])
        for title in (f.title, _NORMALISED_DATELINE.sub("", f.title))
    )


@dataclass(frozen=True)
class Model:
    """A logistic regression over :func:`features`, with the threshold chosen in tuning."""

    weights: tuple[float, ...]
    bias: float
    threshold: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]

    @cached_property
    def _linear(self) -> tuple[tuple[float, ...], float]:
        """The weights on raw features (standardisation folded in: one product a feature)."""
        coef = tuple(w / s for w, s in zip(self.weights, self.scale, strict=True))
        return coef, self.bias - sum(c * m for c, m in zip(coef, self.mean, strict=True))

    def probability(self, a: Facts, b: Facts) -> float:
        if market_reviews_differ(a, b):
            return 0.0
        p = self._model_probability(a, b)
        if p < SAME_HEADLINE_P and (same_headline(a, b) or same_lead(a, b)):
            return SAME_HEADLINE_P
        return p

    def _model_probability(self, a: Facts, b: Facts) -> float:
        lead_j3 = _jaccard(a.lead3, b.lead3)
        if not _plausible(a, b, lead_j3):
            return 0.0
        coef, intercept = self._linear
        z = intercept + sum(c * v for c, v in zip(coef, _features(a, b, lead_j3), strict=True))
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def same_story(self, a: Facts, b: Facts) -> bool:
        return self.probability(a, b) >= self.threshold

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(FEATURES),
            "weights": list(self.weights),
            "bias": self.bias,
            "threshold": self.threshold,
            "mean": list(self.mean),
            "scale": list(self.scale),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Model:
        if list(d["features"]) != list(FEATURES):
            raise ValueError("story model was trained on other features")
        return cls(
            tuple(map(float, d["weights"])),
            float(d["bias"]),
            float(d["threshold"]),
            tuple(map(float, d["mean"])),
            tuple(map(float, d["scale"])),
        )


@lru_cache(maxsize=1)
def model() -> Model:
    """The shipped model (a file in the package: no network, no training at run time)."""
    data = (resources.files("finews") / "data" / "story_model.json").read_text("utf-8")
    return Model.from_dict(json.loads(data))
