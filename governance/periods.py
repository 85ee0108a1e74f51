"""Style anchoring against period conflation (paper section 6.2, *cultural authenticity*).

The paper reports "style contamination": "generated Guanyin Bodhisattva figures inadvertently
incorporated Ming dynasty costume elements into Tang dynasty settings", and answers with "mandatory style
anchoring protocols ... to prevent temporal conflations". Here a prompt's period mentions are found with
the ontology in ``governance/data/periods.yaml`` (Tang, Song, Yuan, Ming, Qing, modern — names in English,
Chinese and pinyin, plus *markers* such as qipao or a braided queue), and each mention is classified by the
word that follows it:

- ``costume`` / ``architecture`` / ``pigments`` — an element of the depicted scene ("Ming costume");
- ``style`` — the manner of the painting ("a Song-style painting", "in the style of the Yuan"): a later
  painter depicting an earlier subject is ordinary practice, so style mentions never conflate;
- ``subject`` — anything else ("a Tang-dynasty Guanyin", "a Tang lady").

Two or more periods among the scene mentions is a conflation. The *requested* period is that of the
first subject mention (else the first scene mention). The policy (``periods.conflation``) then refuses
the prompt, or *anchors* it: each conflicting element is rewritten with the requested period's anchor
phrase ("in Ming costume" → "in Tang costume (high-waisted ruqun skirts, pibo shawls and high
chignons)") and the prompt is closed with the requested period's style.

English period names that are also common words (Song, Tang, Ming) count only when capitalised or
followed by dynasty/period/era, so "a bird's song" is not the Song dynasty.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import opencc
import yaml

from governance.normalize import light_normalize

DATA = Path(__file__).resolve().parent / "data"
DOMAINS = ("costume", "architecture", "pigments", "objects", "style")
_SCENE = ("costume", "architecture", "pigments", "objects")
_CJK = re.compile(r"[\u3400-\u9fff]")
_SUFFIX = r"(?:[-\s]+(?:dynasty|dynasties|period|era|times|court))?"
_STYLE_BEFORE = re.compile(r"(?:style|manner|school|tradition|taste)\s+of\s+(?:the\s+)?$", re.IGNORECASE)
# Words that claim a picture *is* a work of the period rather than one painted in its manner ("an authentic
# Song scroll", 唐代真品): a forger's wording. The period named beside them is the picture's own, so its scene
# is judged for anachronisms as a subject is (blind set 8's period-authenticity claims: a "certified" Song
# scroll with a selfie stick was read as a Song-style picture of a modern scene and allowed).
_CLAIMED = re.compile(r"\b(?:authentic|genuine|certified|authenticated|museum-certified|auction-grade|verified|"
                      r"period original|period work)\b|真迹|真跡|真品|原作|原件", re.IGNORECASE)
_CLAIM_WINDOW = 60
_TOKEN = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")


def tokens(text: str) -> list[str]:
    """Word tokens of lightly normalised text (a possessive 's dropped): how the ontology's names are keyed."""
    return [re.sub(r"['’]s$", "", t) for t in _TOKEN.findall(text)]


class OntologyError(ValueError):
    """A malformed periods.yaml; names the key."""


@dataclass(frozen=True)
class Period:
    id: str
    label: str
    label_zh: str
    dates: str
    en_names: tuple[str, ...]
    zh_names: tuple[str, ...]
    pinyin_names: tuple[str, ...]
    anchors: dict[str, str]      # domain -> English anchor phrase
    anchors_zh: dict[str, str]
    markers: dict[str, tuple[tuple[str, ...], tuple[str, ...]]]  # domain -> (en terms, zh terms)
    raw: dict[str, Any]          # the full entry (descriptions, motifs, painting types, sources)

    @property
    def short(self) -> str:
        return self.en_names[0]


@dataclass(frozen=True)
class Ontology:
    periods: dict[str, Period]
    domain_words: dict[str, tuple[tuple[tuple[str, ...], ...], tuple[str, ...]]]  # domain -> (en seqs, zh)
    not_periods: tuple[str, ...] = ()   # painters' names that contain a period name (Tang Yin, Ma Yuan)


@functools.lru_cache(maxsize=4)
def load_ontology(path: str | Path = DATA / "periods.yaml") -> Ontology:
    try:
        data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    except (OSError, yaml.YAMLError) as exc:
        raise OntologyError(f"{path}: cannot read ({exc})") from None
    domains = {}
    for d in DOMAINS:
        entry = data.get("domains", {}).get(d)
        if not entry:
            raise OntologyError(f"{path}: domains.{d} is missing")
        domains[d] = (tuple(tuple(tokens(light_normalize(w).casefold())) for w in entry["en"]), tuple(entry["zh"]))
    periods = {}
    for pid, e in (data.get("periods") or {}).items():
        try:
            markers = {d: (tuple(e[d]["markers"]["en"] or []), tuple(e[d]["markers"]["zh"] or [])) for d in _SCENE}
            periods[pid] = Period(pid, e["label"], e["label_zh"], e["dates"], tuple(e["names"]["en"]),
                                  tuple(e["names"]["zh"]), tuple(e["names"].get("pinyin") or []),
                                  {d: e[d]["anchor"] for d in _SCENE}, {d: e[d]["anchor_zh"] for d in _SCENE},
                                  markers, e)
            for key in ("motifs", "painting_types", "sources"):
                if not e.get(key):
                    raise KeyError(key)
        except (KeyError, TypeError) as exc:
            raise OntologyError(f"{path}: periods.{pid}: missing or malformed {exc}") from None
    if not periods:
        raise OntologyError(f"{path}: no periods")
    names = data.get("not_periods")
    if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
        raise OntologyError(f"{path}: not_periods must be a list of names")
    return Ontology(periods, domains, tuple(names))


@dataclass(frozen=True)
class Mention:
    period: str
    start: int
    end: int          # end of the span an anchored rewrite replaces (name + domain word, or the marker)
    text: str
    domain: str       # costume | architecture | pigments | style | subject
    via: str          # name | marker
    zh: bool
    domain_word: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"period": self.period, "text": self.text, "domain": self.domain, "via": self.via}


def _domain_after(text: str, end: int, onto: Ontology, zh: bool) -> tuple[str, int, str]:
    """(domain, end of the domain word, the word) for the words right after a period name."""
    if zh:
        tail = text[end:end + 8]
        best = None
        for d, (_, words) in onto.domain_words.items():
            for w in words:
                i = tail.find(w)
                if 0 <= i <= 3 and (best is None or (i, -len(w)) < (best[0], -len(best[2]))):
                    best = (i, d, w)
        return ("subject", end, "") if best is None else (best[1], end + best[0] + len(best[2]), best[2])
    tail = text[end:end + 80]
    spans = [(m.start(), m.end(), m.group().casefold()) for m in re.finditer(r"[^\W_]+(?:['’][^\W_]+)*", tail)][:4]
    words = [s[2] for s in spans]
    for i in range(len(words)):
        for d, (seqs, _) in onto.domain_words.items():
            for seq in sorted(seqs, key=len, reverse=True):
                if tuple(words[i:i + len(seq)]) == seq:
                    return d, end + spans[i + len(seq) - 1][1], " ".join(seq)
        if i >= 2:
            break
    return "subject", end, ""


def _claimed(text: str, start: int, end: int, domain: str) -> str:
    """``subject`` for a period read as a style (a "Song scroll") where the text claims the picture is a work
    of the period (:data:`_CLAIMED` within :data:`_CLAIM_WINDOW` characters); else ``domain`` unchanged."""
    if domain == "style" and _CLAIMED.search(text, max(0, start - _CLAIM_WINDOW), end + _CLAIM_WINDOW):
        return "subject"
    return domain


def find_mentions(text: str, onto: Ontology) -> list[Mention]:
    """Every period mention in (lightly normalised) ``text``, in order of position."""
    out: list[Mention] = []
    taken: list[tuple[int, int]] = []
    for p in onto.periods.values():
        for d, (en, zh) in p.markers.items():
            for term in en:
                for m in re.finditer(rf"(?<![\w'’]){re.escape(term)}(?:e?s)?(?![\w'’])", text, re.IGNORECASE):
                    out.append(Mention(p.id, m.start(), m.end(), m.group(), d, "marker", False))
            for term in zh:
                for m in re.finditer(re.escape(term), text):
                    out.append(Mention(p.id, m.start(), m.end(), m.group(), d, "marker", True))
    taken = [(m.start, m.end) for m in out]
    for name in onto.not_periods:  # "after Tang Yin, Ming dynasty": a painter, not the Tang dynasty
        taken += [(m.start(), m.end()) for m in re.finditer(rf"(?<![\w'’]){re.escape(name)}(?![\w'’])", text,
                                                            re.IGNORECASE)]
    for p in onto.periods.values():
        for name in p.en_names + p.pinyin_names:
            for m in re.finditer(rf"(?<![\w'’]){re.escape(name)}{_SUFFIX}(?![\w'’])", text, re.IGNORECASE):
                word = m.group()[:len(name)]
                qualified = m.end() > m.start() + len(name) or word.isupper()
                if not (word == name or name[0].islower() or qualified) \
                        and _domain_after(text, m.end(), onto, zh=False)[0] not in _SCENE:
                    continue  # "song", "ming" in running text: a period only capitalised, or as "ming robes"
                if any(s <= m.start() < e for s, e in taken):
                    continue  # part of a marker ("Ming Great Wall")
                if _STYLE_BEFORE.search(text[:m.start()]):
                    out.append(Mention(p.id, m.start(), m.end(), m.group(), "style", "name", False))
                    continue
                domain, dend, dword = _domain_after(text, m.end(), onto, zh=False)
                domain = _claimed(text, m.start(), dend, domain)
                out.append(Mention(p.id, m.start(), dend if domain in _SCENE else m.end(), m.group(), domain,
                                   "name", False, dword))
        for name in p.zh_names:
            for m in re.finditer(re.escape(name), text):
                if any(s <= m.start() < e for s, e in taken):
                    continue
                domain, dend, dword = _domain_after(text, m.end(), onto, zh=True)
                domain = _claimed(text, m.start(), dend, domain)
                out.append(Mention(p.id, m.start(), dend if domain in _SCENE else m.end(), m.group(), domain,
                                   "name", True, dword))
    return sorted(out, key=lambda m: (m.start, -m.end))


def _simplified(text: str) -> str:
    """Traditional characters read as simplified (OpenCC t2s; 唐朝 and 民國 are period names too)."""
    out = _t2s().convert(text)
    return out if len(out) == len(text) else "".join(_t2s().convert(c) for c in text)


@functools.lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@dataclass(frozen=True)
class PeriodFindings:
    mentions: tuple[Mention, ...]
    requested: str | None           # the period the prompt asks for
    conflicting: tuple[Mention, ...]
    rewritten: str | None           # the anchored prompt (only when asked to anchor)

    @property
    def conflated(self) -> bool:
        return bool(self.conflicting)

    def to_dict(self) -> dict[str, Any]:
        return {"mentions": [m.to_dict() for m in self.mentions], "requested": self.requested,
                "conflicting": [m.to_dict() for m in self.conflicting], "rewritten": self.rewritten}


def _replacement(m: Mention, target: Period, onto: Ontology) -> str:
    if m.domain == "subject":
        return target.label_zh if m.zh else target.short
    if m.domain == "objects" and m.via == "marker":  # a smartphone in a Tang scene: the period's own objects
        return target.anchors_zh["objects"] if m.zh else target.anchors["objects"]
    if m.zh:
        word = m.domain_word or onto.domain_words[m.domain][1][0]
        return f"{target.label_zh}{word}（{target.anchors_zh[m.domain]}）"
    word = m.domain_word or " ".join(onto.domain_words[m.domain][0][0])
    return f"{target.short} {word} ({target.anchors[m.domain]})"


def analyse_periods(text: str, onto: Ontology, *, anchor: bool) -> PeriodFindings:
    """Find mentions, decide the requested period and the conflicts; rewrite if ``anchor``."""
    norm = _simplified(light_normalize(text))
    mentions = find_mentions(norm, onto)
    scene = [m for m in mentions if m.domain != "style"]
    if len({m.period for m in scene}) < 2:
        return PeriodFindings(tuple(mentions), scene[0].period if scene else None, (), None)
    first = next((m for m in scene if m.domain == "subject"), scene[0])
    conflicting = tuple(m for m in scene if m.period != first.period)
    rewritten = None
    if anchor:
        target = onto.periods[first.period]
        rewritten = norm
        for m in sorted(conflicting, key=lambda m: m.start, reverse=True):
            rewritten = rewritten[:m.start] + _replacement(m, target, onto) + rewritten[m.end:]
        zh = bool(_CJK.search(norm))
        rewritten = rewritten.rstrip(" .。") + (f"，{target.label_zh}风格" if zh else
                                               f", in authentic {target.label} style ({target.dates})")
    return PeriodFindings(tuple(mentions), first.period, conflicting, rewritten)
