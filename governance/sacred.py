"""Sacred imagery in prompts: religious motifs, mantras, postures, agents (paper section 6.2).

"Sacred imagery generation requires rigorous protocols ... exclusion of mantras, directional constraints
for deity posture synthesis, and mandatory cultural consultant validation for any religious motif
creation." This module *recognises*, with a span for every finding; :mod:`governance.roles` decides who
a posture belongs to and :mod:`governance.decisions` decides. Three data files, with their sources:

- ``motifs.yaml`` — motifs with their deity class (English, romanisations, pinyin, Tibetan and Chinese
  names), postures and facings (``en``/``zh``: the figure is in that state; ``object_en``/``object_zh``:
  the figure is what the act is done to — "kicking", "踩"), agents (people, animals, plants that a posture
  may belong to instead) and linkers (prepositions that put a figure in a location, not a posture);
- ``multilingual.yaml`` — the motifs, contexts, agents and degradations of ``motifs.yaml`` in other
  languages (Japanese, Korean, Vietnamese, European languages, Russian, Hindi, Arabic, Thai), merged into
  its entries; their degradations are attributed by company (:mod:`governance.roles`), stems end in ``*``;
- ``mantras.yaml`` — per mantra: written forms, phonetic slot patterns (each slot's alternative syllables,
  so every transcription meets on sound), ambiguous short forms that need a writing cue, and indirect
  names ("the six syllables of Chenrezig") that count when the prompt asks for them as text.

Latin-script terms are compared on the letter stream of :mod:`governance.normalize` with word boundaries
at both ends (a plural -s/-es accepted), across spaces and hyphens — "Kuan-yin", "B u d d h a" and
"Buddha-statue" all match; a mantra form of ``glued_min_letters`` or more letters matches without
boundaries (glued into other text). Chinese terms are compared on the simplified text (OpenCC), minus
listed compounds that only look religious (佛手 citron, 睡莲 water lily).
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import regex
import yaml

from governance.encodings import encoded_readings, shift_signature
from governance.normalize import Hanzi, Roman, hanzi, readings, roman, roman_key, views

DATA = Path(__file__).resolve().parent / "data"
_TOKEN = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")
_SURNAME = re.compile(r"[ \t]+[A-Z][a-z]")
_NAMED = re.compile(r"\b(?:named|called|nicknamed|surnamed)\s+(?:[A-Z]\w*\s+(?:and\s+)?)?$|(?:名叫|叫做|名为)$")


class LexiconError(ValueError):
    """A malformed lexicon file; names the file and key."""


def tokens(text: str) -> list[str]:
    """Word tokens of lightly normalised text (used by the period ontology)."""
    return [re.sub(r"['’]s$", "", t) for t in _TOKEN.findall(text)]


@dataclass(frozen=True)
class Hit:
    """One finding: which lexicon entry, which term, where in the prompt (source offsets)."""

    group: str       # motif | posture | facing | agent | linker | mantra | mantra_name | generic | cue | heritage
    ident: str
    term: str
    start: int
    end: int
    role: str = "state"   # postures: state (the figure is in it) | object (the act is done to the figure)

    def to_dict(self, text: str) -> dict[str, Any]:
        return {"group": self.group, "id": self.ident, "term": self.term, "span": [self.start, self.end],
                "text": text[self.start:self.end]}


@dataclass(frozen=True)
class Terms:
    """One lexicon entry's terms, keyed for matching."""

    words: tuple[tuple[str, str], ...]          # (term, roman key)
    zh: tuple[str, ...]                         # simplified Chinese
    zh_exceptions: tuple[str, ...] = ()
    word_exceptions: tuple[str, ...] = ()       # roman keys
    stems: frozenset[str] = frozenset()         # roman keys matched with any ending ("будд*": Будды, Будду)

    @functools.cached_property
    def _by_prefix(self) -> tuple[dict[str, tuple[int, ...]], tuple[int, ...]]:
        """Positions in ``words`` by their key's first three letters, and those of shorter keys."""
        index: dict[str, list[int]] = {}
        for n, (_, key) in enumerate(self.words):
            if len(key) >= 3:
                index.setdefault(key[:3], []).append(n)
        return {k: tuple(v) for k, v in index.items()}, tuple(n for n, (_, k) in enumerate(self.words) if len(k) < 3)

    def find_words(self, r: Roman, glued_min: int = 0, allow_han: bool = False) -> Iterable[tuple[str, int, int]]:
        """``(term, first letter, end letter)`` of every boundary-respecting occurrence.

        A key occurs only where its first three letters do, so only keys whose prefix is among the text's
        letter trigrams are searched for (in ``words`` order): the same hits at a fraction of the cost, since
        the guardrail screens every prompt against every lexicon entry in every reading."""
        index, short = self._by_prefix
        candidates = [n for prefix in index.keys() & r.trigrams for n in index[prefix]]
        if not candidates and not short:
            return
        blocked = None
        for n in sorted(candidates + list(short)):
            term, key = self.words[n]
            for i, j in _occurrences(r, key, glued_min, allow_han, key in self.stems):
                if blocked is None:
                    blocked = [(a, b) for ex in self.word_exceptions for a, b in _occurrences(r, ex, 0, True)]
                if not any(a < j and i < b for a, b in blocked):
                    yield term, i, j

    def find_zh(self, h: Hanzi) -> Iterable[tuple[str, int, int]]:
        """Occurrences of the Chinese terms; one lying wholly inside a listed compound (佛 in 佛手 "citron")
        is discarded, one that only overlaps it is kept (药师佛 in 药师佛手持药钵: the compound is a false
        reading across a word boundary)."""
        text = h.text
        inside = set()
        for ex in self.zh_exceptions:
            pos = text.find(ex)
            while pos >= 0:
                inside.add((pos, pos + len(ex)))
                pos = text.find(ex, pos + 1)
        for term in self.zh:
            pos = text.find(term)
            while pos >= 0:
                end = pos + len(term)
                if not any(a <= pos and end <= b for a, b in inside):
                    yield term, h.src[pos], h.src[end - 1] + 1
                pos = text.find(term, pos + 1)


def _occurrences(r: Roman, key: str, glued_min: int, allow_han: bool, stem: bool = False) -> Iterable[tuple[int, int]]:
    letters = r.letters
    pos = letters.find(key)
    while pos >= 0:
        end = pos + len(key)
        ok = allow_han or not any(r.han[pos:end])
        if ok and (not glued_min or len(key) < glued_min):
            ok = not r.crosses_break(pos, end)
        if ok and (not glued_min or len(key) < glued_min):
            ok = r.starts_word(pos)
            if ok and not stem and not r.ends_word(end - 1):
                plural = next((end + len(s) for s in ("s", "es") if letters.startswith(s, end)
                               and r.ends_word(end + len(s) - 1) and r.word[end + len(s) - 1] == r.word[end - 1]), 0)
                ok, end = (True, plural) if plural else (False, end)
        if ok:
            yield pos, end
        pos = letters.find(key, pos + 1)


_ARTICLES = ("a", "an", "the", "his", "her", "its", "their")


def _article_variants(term: str) -> list[str]:
    """``term`` with each article or possessive inside it read as any other ("in a toilet" = "in the toilet")."""
    words = term.split()
    slots = [[w] if w.lower() not in _ARTICLES or n == 0 else list(_ARTICLES) for n, w in enumerate(words)]
    out = [" ".join(x) for x in itertools.islice(itertools.product(*slots), 64)]
    return list(dict.fromkeys([term] + out))


def _zh(values: Any, where: str) -> tuple[str, ...]:
    out = []
    for v in values or []:
        h = hanzi(readings(str(v))[0]).text
        if not h:
            raise LexiconError(f"{where}: {v!r} is empty after normalisation")
        out.append(h)
    return tuple(out)


def _romanised(zh: Any) -> list[str]:
    """Pinyin and Wade-Giles readings (pypinyin) of Chinese names of two or more characters, so that
    "Kuan-shih-yin", "Ti-tsang" and "Shih-chia-mou-ni" meet their names; a reading that is an English word
    (弥勒 "mile") is left out (lemminflect's English lexicon)."""
    from lemminflect import getAllLemmas
    from pypinyin import Style, lazy_pinyin

    out = []
    for name in zh or []:
        name = str(name)
        if len(name) < 2:
            continue
        for style in (Style.NORMAL, Style.WADEGILES):
            reading = " ".join(lazy_pinyin(name, style=style)).replace("v", "u")
            if not getAllLemmas(reading.replace(" ", "")) and reading.replace(" ", "").isascii():
                out.append(reading)
    return list(dict.fromkeys(out))


def _terms(entry: Any, where: str, en_keys: tuple[str, ...] = ("en", "pinyin"), zh_key: str = "zh",
           extra: frozenset[str] = frozenset(), romanise: bool = False) -> Terms:
    if not isinstance(entry, dict):
        raise LexiconError(f"{where}: expected a mapping")
    known = set(en_keys) | {zh_key, "zh_exceptions", "en_exceptions", "class", "sources", "ambiguous_en"} | extra
    unknown = sorted(set(entry) - known)
    if unknown:
        raise LexiconError(f"{where}.{unknown[0]}: unknown key (known: {', '.join(sorted(known))})")
    words = []
    if romanise:
        entry = dict(entry)
        entry["pinyin"] = list(entry.get("pinyin") or []) + _romanised(entry.get(zh_key))
        entry["en_exceptions"] = list(entry.get("en_exceptions") or []) + _romanised(entry.get("zh_exceptions"))
    for key in en_keys:
        for term in entry.get(key) or []:
            if not isinstance(term, str):  # YAML reads a bare on/no/yes as a boolean
                raise LexiconError(f"{where}.{key}: {term!r} is not a string (quote it in the YAML file)")
            for variant in _article_variants(term):
                k = roman_key(variant)
                if not k:
                    raise LexiconError(f"{where}.{key}: {term!r} has no letters")
                words.append((str(term), k))
    return Terms(tuple(words), _zh(entry.get(zh_key), f"{where}.{zh_key}"),
                 _zh(entry.get("zh_exceptions"), f"{where}.zh_exceptions"),
                 tuple(roman_key(str(t)) for t in entry.get("en_exceptions") or []))


@dataclass(frozen=True)
class Mantra:
    ident: str
    name: str
    forms: Terms                   # unambiguous written forms
    ambiguous: Terms               # short forms that also read as names/words: need a writing cue
    phonetic: tuple[regex.Pattern, ...]
    names: Terms                   # indirect names: need a writing cue


@dataclass(frozen=True)
class Lexicon:
    classes: tuple[str, ...]
    motifs: dict[str, tuple[str, Terms]]     # motif id -> (deity class, terms)
    postures: dict[str, tuple[Terms, Terms]]  # posture id -> (state terms, object terms)
    facings: dict[str, tuple[Terms, Terms]]
    agents: Terms
    linkers: Terms
    mantras: tuple[Mantra, ...]
    symbols: tuple[str, ...]
    generic_mantra: Terms
    writing_cues: Terms
    glued_min_letters: int
    heritage_context: Terms
    heritage_postures: frozenset[str]
    ambiguous_motifs: dict[str, Terms] = field(default_factory=dict)  # names that are also people's / places'
    sacred_context: Terms | None = None                                # words that make them the deity
    near: dict[str, Terms] = field(default_factory=dict)       # posture id -> things that degrade by company
    image: dict[str, tuple[re.Pattern, ...]] = field(default_factory=dict)  # posture id -> whole-picture turns
    onto: dict[str, tuple[re.Pattern, ...]] = field(default_factory=dict)   # posture id -> someone on the figure
    causatives: Terms | None = None                             # verbs whose object takes the state
    pronouns: Terms | None = None                               # it, which, whom ... (a figure named before)
    onto_exempt: frozenset[str] = frozenset()                   # figures children climb on in iconography
    acts: dict[str, Terms] = field(default_factory=dict)        # posture id -> acts done to the nearest motif
    depictions: Terms | None = None                             # "a painting of": transparent to an act
    anaphora: Terms | None = None                               # "the statue": the figure named before
    weak_postures: frozenset[str] = frozenset()                 # refused on an ambiguous name read weakly
    indirect: tuple[re.Pattern, ...] = ()                       # text described by who recites it: generic
    protected: dict[str, Terms] = field(default_factory=dict)   # objects never held, protected from degradation

    @property
    def mantra_names(self) -> dict[str, str]:
        return {m.ident: m.name for m in self.mantras}

    @functools.cached_property
    def shift_keys(self) -> tuple[tuple[str, str], ...]:
        """:func:`_shift_keys`, computed once per lexicon (the same for every prompt)."""
        return _shift_keys(self)


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    except (OSError, yaml.YAMLError) as exc:
        raise LexiconError(f"{path}: cannot read ({exc})") from None
    if not isinstance(data, dict):
        raise LexiconError(f"{path}: expected a mapping at the top")
    return data


def _phonetic(slots: Any, where: str) -> regex.Pattern:
    if not isinstance(slots, list) or not all(isinstance(s, list) and s for s in slots):
        raise LexiconError(f"{where}: expected a list of slots, each a list of syllables")
    parts = []
    for n, slot in enumerate(slots):
        if not all(isinstance(s, str) for s in slot):  # YAML reads a bare on/no/yes as a boolean
            raise LexiconError(f"{where}[{n}]: {slot!r} has a value that is not a string (quote it)")
        keys = sorted({roman_key(s) for s in slot}, key=len, reverse=True)
        if not all(keys):
            raise LexiconError(f"{where}[{n}]: a syllable has no letters")
        parts.append("(?:" + "|".join(map(regex.escape, keys)) + ")")
    return regex.compile("".join(parts))


_AS_EN = ("as a {}", "as an {}", "as the {}", "into a {}", "into an {}")
_AS_ZH = ("当作{}", "当成{}", "当{}", "用作{}", "做成{}", "作为{}")


_PARTICLES = ("", " on", " at", " upon", " over", " onto", " into")


def _verb_forms(phrase: str, where: str) -> tuple[list[str], list[str]]:
    """``(active forms, past participles)`` of a verb phrase ("spit on", "blow up"): its first word
    inflected by lemminflect (its own table, or its rules for a verb the table lacks: "twerk"), each form
    also followed by a particle."""
    from lemminflect import getAllInflections, getAllInflectionsOOV

    head, _, rest = phrase.strip().partition(" ")
    forms = (getAllInflections(head, upos="VERB") or getAllInflectionsOOV(head, upos="VERB")) if head.replace("-", "").isalpha() else {}
    if not forms:
        raise LexiconError(f"{where}: {phrase!r} has no verb inflections")
    tail = f" {rest}" if rest else ""
    active = {f for tag in ("VB", "VBZ", "VBG", "VBD") for f in forms.get(tag, ())}
    passive = set(forms.get("VBN", ())) | set(forms.get("VBD", ()))
    particles = _PARTICLES if not rest else ("",)
    return ([f + tail + p for f in sorted(active) for p in particles],
            [f + tail + p for f in sorted(passive) for p in particles] + [f"being {f}{tail}" for f in sorted(passive)])


def _posture_terms(entry: Any, where: str) -> tuple[Terms, Terms]:
    extra = frozenset({"object_en", "object_zh", "heritage", "as_objects_en", "as_objects_zh", "verbs_en", "acts_en",
                       "near_en", "near_zh", "image_patterns", "onto_patterns", "near_zh_exceptions",
                       "onto_exempt"})
    entry = dict(entry)
    if entry.get("as_objects_en") or entry.get("as_objects_zh"):  # "used as a stool", 当作凳子
        entry["en"] = list(entry.get("en") or []) + [f.format(x) for x in entry.get("as_objects_en") or [] for f in _AS_EN]
        entry["zh"] = list(entry.get("zh") or []) + [f.format(x) for x in entry.get("as_objects_zh") or [] for f in _AS_ZH]
    objects = list(entry.get("object_en") or [])
    for verb in entry.get("acts_en") or []:  # the figure does it: a state in every form but the base
        active, passive = _verb_forms(str(verb), f"{where}.acts_en")
        base = str(verb)
        entry["en"] = list(entry.get("en") or []) + [f for f in active + passive if not f.startswith(base.split()[0] + " ")
                                                     and f != base and not f.startswith("being ")]
    for verb in entry.get("verbs_en") or []:
        active, passive = _verb_forms(str(verb), f"{where}.verbs_en")
        objects += active
        entry["en"] = list(entry.get("en") or []) + passive
    # a Chinese term written in pinyin ("dao gua" 倒挂, "kan tou" 砍头) is the same term (not on the pinyin
    # reading of Chinese characters: only letters the prompt writes)
    entry["en"] = list(entry.get("en") or []) + _romanised([z for z in entry.get("zh") or [] if _is_han(str(z))])
    objects += _romanised([z for z in entry.get("object_zh") or [] if _is_han(str(z))])
    state = _terms(entry, where, ("en",), extra=extra)
    obj = _terms({"en": objects, "zh": entry.get("object_zh"),
                  "zh_exceptions": entry.get("zh_exceptions")}, where + ".object", ("en",))
    return state, obj


def _near_terms(entry: Any, where: str) -> Terms | None:
    if not (entry.get("near_en") or entry.get("near_zh")):
        return None
    return _terms({"en": entry.get("near_en"), "zh": entry.get("near_zh"), "zh_exceptions": entry.get("near_zh_exceptions")},
                  where + ".near", ("en",))


def _patterns(entry: Any, where: str, key: str) -> tuple[re.Pattern, ...]:
    out = []
    for n, pattern in enumerate(entry.get(key) or []):
        try:
            out.append(re.compile(str(pattern), re.IGNORECASE))
        except re.error as exc:
            raise LexiconError(f"{where}.{key}[{n}]: {exc}") from None
    return tuple(out)


def _merge(a: Terms | None, b: Terms | None) -> Terms | None:
    """The terms of both (a lexicon entry and its translations)."""
    if a is None or b is None:
        return a or b
    return Terms(a.words + b.words, a.zh + b.zh, a.zh_exceptions + b.zh_exceptions,
                 a.word_exceptions + b.word_exceptions, a.stems | b.stems)


def _translated(entry: Any, where: str) -> Terms:
    """One entry of ``multilingual.yaml``: ``latin`` terms word-wise (a final ``*``: a stem, any ending),
    ``native`` terms as substrings, ``native_exceptions`` compounds that only contain a term."""
    if not isinstance(entry, dict):
        raise LexiconError(f"{where}: expected a mapping")
    unknown = sorted(set(entry) - {"latin", "native", "native_exceptions", "ambiguous"})
    if unknown:
        raise LexiconError(f"{where}.{unknown[0]}: unknown key (known: ambiguous, latin, native, native_exceptions)")
    latin = [str(x) for x in entry.get("latin") or []]
    for x in latin + [str(x) for x in entry.get("native") or []]:
        if "*" in x.rstrip("*") or not x.strip("* "):
            raise LexiconError(f"{where}: {x!r}: a stem's '*' goes at its end only")
    stems = frozenset(roman_key(x.rstrip("*")) for x in latin if x.endswith("*"))
    terms = _terms({"en": [x.rstrip("*") for x in latin], "zh": entry.get("native"),
                    "zh_exceptions": entry.get("native_exceptions")}, where, ("en",))
    return Terms(terms.words, terms.zh, terms.zh_exceptions, terms.word_exceptions, stems)


def _multilingual(path: Path, motifs: dict[str, Any], postures: dict[str, Any]) -> dict[str, Any]:
    """``multilingual.yaml`` read and checked against the motif and posture ids of ``motifs.yaml``."""
    data = _read(path) if path.exists() else {}
    out: dict[str, Any] = {"motifs": {}, "ambiguous": {}, "near": {}, "acts": {}}
    for mid, entry in (data.get("motifs") or {}).items():
        if mid not in motifs:
            raise LexiconError(f"{path}: motifs.{mid} is not a motif of motifs.yaml")
        out["motifs"][mid] = _translated(entry, f"{path}: motifs.{mid}")
        if entry.get("ambiguous"):
            out["ambiguous"][mid] = _translated({"latin": entry["ambiguous"]}, f"{path}: motifs.{mid}.ambiguous")
    for key in ("sacred_context", "heritage_context", "agents"):
        out[key] = _translated(data[key], f"{path}: {key}") if data.get(key) else None
    for pid, entry in (data.get("postures") or {}).items():
        if pid not in postures or not isinstance(entry, dict) or set(entry) - {"state", "acts"}:
            raise LexiconError(f"{path}: postures.{pid} must be a posture of motifs.yaml with state and/or acts")
        if entry.get("state"):
            out["near"][pid] = _translated(entry["state"], f"{path}: postures.{pid}.state")
        if entry.get("acts"):
            out["acts"][pid] = _translated(entry["acts"], f"{path}: postures.{pid}.acts")
    return out


@functools.lru_cache(maxsize=4)
def load_lexicon(motifs_path: str | Path = DATA / "motifs.yaml",
                 mantras_path: str | Path = DATA / "mantras.yaml",
                 multilingual_path: str | Path = DATA / "multilingual.yaml") -> Lexicon:
    """The compiled lexicon of the three files: :func:`compile_lexicon`'s result, loaded from the JSON cache
    of :mod:`governance.lexicon_cache` when its key (the files, the compiling modules, the libraries) matches."""
    from governance.lexicon_cache import cached_lexicon  # local: it imports this module's classes

    return cached_lexicon((Path(motifs_path), Path(mantras_path), Path(multilingual_path)), compile_lexicon)


def compile_lexicon(motifs_path: str | Path = DATA / "motifs.yaml",
                    mantras_path: str | Path = DATA / "mantras.yaml",
                    multilingual_path: str | Path = DATA / "multilingual.yaml") -> Lexicon:
    """The lexicon compiled from its YAML files (slow: pypinyin, lemminflect and the skeleton on every term)."""
    m = _read(Path(motifs_path))
    for key in ("classes", "motifs", "postures", "facing", "agents", "linkers", "heritage_context"):
        if key not in m:
            raise LexiconError(f"{motifs_path}: missing {key!r}")
    classes = tuple(m["classes"])
    motifs = {}
    for mid, entry in m["motifs"].items():
        if entry.get("class") not in classes:
            raise LexiconError(f"{motifs_path}: motifs.{mid}.class {entry.get('class')!r} is not in classes")
        motifs[mid] = (entry["class"], _terms(entry, f"motifs.{mid}", romanise=True,
                                              extra=frozenset({"protected_en", "protected_zh"})))
    postures = {pid: _posture_terms(e, f"postures.{pid}") for pid, e in m["postures"].items()}
    ml = _multilingual(Path(multilingual_path), motifs, postures)
    motifs.update({mid: (motifs[mid][0], _merge(motifs[mid][1], t)) for mid, t in ml["motifs"].items()})
    facings = {fid: _posture_terms(e, f"facing.{fid}") for fid, e in m["facing"].items()}
    t = _read(Path(mantras_path))
    mantras = []
    for mid, e in (t.get("mantras") or {}).items():
        where = f"{mantras_path}: mantras.{mid}"
        if not e.get("forms") or not e.get("sources"):
            raise LexiconError(f"{where}: needs forms and sources")
        mantras.append(Mantra(
            mid, str(e.get("name", mid)),
            _terms({"en": [f for f in e["forms"] if not _unspaced(str(f))],
                    "zh": [f for f in e["forms"] if _unspaced(str(f))]}, where + ".forms", ("en",)),
            _terms({"en": e.get("ambiguous_forms")}, where + ".ambiguous_forms", ("en",)),
            tuple(_phonetic(p, f"{where}.phonetic[{n}]") for n, p in enumerate(e.get("phonetic") or [])),
            _terms({"en": e.get("names_en"), "zh": e.get("names_zh")}, where + ".names", ("en",))))
    ambiguous = {mid: _terms({"en": e.get("ambiguous_en"), "en_exceptions": e.get("en_exceptions")},
                             f"motifs.{mid}.ambiguous_en", ("en",))
                 for mid, e in m["motifs"].items() if e.get("ambiguous_en")}
    ambiguous.update({mid: _merge(ambiguous.get(mid), t) for mid, t in ml["ambiguous"].items()})
    near = {pid: x for pid, e in m["postures"].items() if (x := _near_terms(e, f"postures.{pid}"))}
    near.update({pid: _merge(near.get(pid), x) for pid, x in ml["near"].items()})
    if "sacred_context" not in m:
        raise LexiconError(f"{motifs_path}: missing 'sacred_context'")
    causatives = []
    for verb in m.get("causatives") or []:
        active, passive = _verb_forms(str(verb), "causatives")
        causatives += [f for f in active + passive if not f.startswith("being ")]
    return Lexicon(classes, motifs, postures, facings, _merge(_terms(m["agents"], "agents", ("en",)), ml["agents"]),
                   _terms(m["linkers"], "linkers", ("en",)), tuple(mantras), tuple(t.get("symbols") or []),
                   _terms(t.get("generic_terms", {}), "generic_terms"),
                   _terms(t.get("writing_cues", {}), "writing_cues", ("en",)),
                   int(t.get("glued_min_letters", 10)),
                   _merge(_terms(m["heritage_context"], "heritage_context", ("en",)), ml["heritage_context"]),
                   frozenset(pid for pid, e in m["postures"].items() if e.get("heritage")),
                   ambiguous, _merge(_terms(m["sacred_context"], "sacred_context", ("en",)), ml["sacred_context"]),
                   near,
                   {pid: p for pid, e in m["postures"].items() if (p := _patterns(e, f"postures.{pid}", "image_patterns"))},
                   {pid: p for pid, e in m["postures"].items() if (p := _patterns(e, f"postures.{pid}", "onto_patterns"))},
                   _terms({"en": sorted(set(causatives))}, "causatives", ("en",)),
                   _terms({"en": m.get("pronouns"), "zh": m.get("pronouns_zh")}, "pronouns", ("en",)),
                   frozenset(str(t) for e in m["postures"].values() for t in e.get("onto_exempt") or []),
                   ml["acts"], _terms({"en": m.get("depictions")}, "depictions", ("en",)),
                   _terms({"en": m.get("anaphora_en"), "zh": m.get("anaphora_zh")}, "anaphora", ("en",)),
                   _weak_postures(m, motifs_path), _patterns(t, str(mantras_path), "indirect_patterns"),
                   {mid: _terms({"en": e.get("protected_en"), "zh": e.get("protected_zh"), "zh_exceptions": e.get("zh_exceptions")},
                                 f"motifs.{mid}.protected", ("en",))
                    for mid, e in m["motifs"].items() if e.get("protected_en") or e.get("protected_zh")})


def _weak_postures(m: dict[str, Any], path: Any) -> frozenset[str]:
    out = frozenset(str(x) for x in m.get("ambiguous_degradations") or [])
    unknown = sorted(out - set(m["postures"]))
    if unknown:
        raise LexiconError(f"{path}: ambiguous_degradations: {unknown[0]!r} is not a posture id")
    return out


def _is_han(text: str) -> bool:
    return bool(regex.search(r"\p{Han}", text))


def _unspaced(text: str) -> bool:
    """Chinese, Japanese or Korean: matched as a substring (particles glue to words: 신묘장구대다라니를)."""
    return bool(regex.search(r"[\p{Han}\p{Hangul}\p{Hiragana}\p{Katakana}]", text))


@dataclass
class SacredFindings:
    """Every hit in one prompt (both readings when a bidi override reorders it)."""

    text: str
    hits: list[Hit] = field(default_factory=list)
    words: dict[int, int] = field(default_factory=dict)   # source offset -> word number (for roles)
    roman: Roman | None = None

    def of(self, group: str) -> list[Hit]:
        return [h for h in self.hits if h.group == group]

    def terms_by_ident(self, group: str) -> dict[str, list[str]]:
        """The matched terms of ``group``'s hits, under the lexicon entry each matched."""
        out: dict[str, list[str]] = {}
        for h in self.of(group):
            out.setdefault(h.ident, []).append(h.term)
        return out

    @property
    def motifs(self) -> dict[str, list[str]]:
        """The religious motifs named (not an ambiguous name read weakly: see :func:`analyse`)."""
        out: dict[str, list[str]] = {}
        for h in self.of("motif"):
            if h.role != "weak":
                out.setdefault(h.ident, []).append(h.term)
        return out

    @property
    def mantras(self) -> dict[str, list[str]]:
        return self.terms_by_ident("mantra")

    def to_dict(self) -> dict[str, Any]:
        return {"hits": [h.to_dict(self.text) for h in self.hits
                         if h.group not in ("linker", "cue", "heritage", "sacred_context", "causative", "pronoun", "depiction")]}


def _roman_hits(r: Roman, group: str, ident: str, terms: Terms, role: str = "state", **kw: Any) -> list[Hit]:
    return [Hit(group, ident, term, *r.span(i, j), role) for term, i, j in terms.find_words(r, **kw)]


def _zh_hits(h: Hanzi, group: str, ident: str, terms: Terms, role: str = "state") -> list[Hit]:
    return [Hit(group, ident, term, s, e, role) for term, s, e in terms.find_zh(h)]


def _both(r: Roman, h: Hanzi, group: str, ident: str, terms: Terms, role: str = "state", **kw: Any) -> list[Hit]:
    return _roman_hits(r, group, ident, terms, role, **kw) + _zh_hits(h, group, ident, terms, role)


def _mantra_hits(r: Roman, h: Hanzi, lex: Lexicon, han_forms: bool = True) -> list[Hit]:
    out = []
    for m in lex.mantras:
        out += _roman_hits(r, "mantra", m.ident, m.forms, glued_min=lex.glued_min_letters, allow_han=True)
        if han_forms:
            out += _zh_hits(h, "mantra", m.ident, m.forms)
        out += _roman_hits(r, "mantra_ambiguous", m.ident, m.ambiguous, allow_han=True)
        out += _both(r, h, "mantra_name", m.ident, m.names)
        for pattern in m.phonetic:
            for match in pattern.finditer(r.letters, overlapped=True):
                i, j = match.span()
                if j - i >= lex.glued_min_letters or (r.starts_word(i) and r.ends_word(j - 1)):
                    group = "mantra" if j - i >= lex.glued_min_letters else "mantra_ambiguous"
                    out.append(Hit(group, m.ident, "phonetic: " + match.group(), *r.span(i, j)))
    return out


def _encoded_hits(text: str, chars: list[tuple[str, int]], lex: Lexicon) -> list[Hit]:
    """Mantras in the decodings of :mod:`governance.encodings` (reversed, upside down, ROT13, Base64, Morse,
    spelling alphabet) and under any Caesar shift; only unambiguous mantra text counts there."""
    out = []
    for how, decoded in encoded_readings(text, chars):
        r = roman(decoded)
        out += [Hit("mantra", h.ident, f"{how}: {h.term}", h.start, h.end)
                for h in _mantra_hits(r, Hanzi("", ()), lex, han_forms=False) if h.group == "mantra"]
    plain = [(c.lower(), i) for c, i in chars if c.isascii() and c.isalpha()]
    if len(plain) > lex.glued_min_letters:
        sig = shift_signature("".join(c for c, _ in plain))
        for ident, key in lex.shift_keys:
            pos = sig.find(key)
            while pos >= 0:
                out.append(Hit("mantra", ident, "Caesar shift: " + "".join(c for c, _ in plain[pos:pos + len(key) + 1]),
                               plain[pos][1], plain[pos + len(key)][1] + 1))
                pos = sig.find(key, pos + 1)
    return out


def _shift_keys(lex: Lexicon) -> tuple[tuple[str, str], ...]:
    """Shift signatures of every written mantra form of ``glued_min_letters`` or more Latin letters."""
    out = []
    for m in lex.mantras:
        for term, _ in m.forms.words:
            letters = "".join(c for c in term.lower() if "a" <= c <= "z")
            if len(letters) >= lex.glued_min_letters:
                out.append((m.ident, shift_signature(letters)))
    return tuple(dict.fromkeys(out))


def _false_friend(text: str, hit: Hit) -> bool:
    """A motif matched only through the confusables skeleton on an ordinary English word: "Hotel" reads as
    "hotei" (UTS #39 folds l and I), yet the text says hotel. Plain ASCII letters that differ from the term
    and form an English word (lemminflect's lexicon) are that word, not a disguise of the name."""
    from lemminflect import getAllLemmas

    if hit.group not in ("motif", "motif_ambiguous"):
        return False
    span = text[hit.start:hit.end]
    return (span.isascii() and span.isalpha() and span.casefold() != hit.term.replace(" ", "").casefold()
            and bool(getAllLemmas(span.casefold())))


def _resolve_anaphora(hits: list[Hit]) -> list[Hit]:
    """"the statue", 该像: a motif hit of the religious motif named last before it (none before: dropped)."""
    out, last = [], None
    for h in sorted(hits, key=lambda x: (x.start, -x.end)):
        if h.group == "motif":
            last = h
        if h.group != "anaphor":
            out.append(h)
        elif last is not None and last.end <= h.start:
            out.append(Hit("motif", last.ident, f"{h.term} (= {last.term})", h.start, h.end))
    return out


def analyse(text: str, lexicon: Lexicon) -> SacredFindings:
    """Everything sacred-imagery related that ``text`` names, in every reading of it."""
    found = SacredFindings(text)
    for chars in readings(text):
        r, h = views(chars)
        if found.roman is None:
            found.roman = r
            for n, s in zip(r.word, r.src):
                found.words.setdefault(s, n)
        hits: list[Hit] = []
        for mid, (_, terms) in lexicon.motifs.items():
            hits += _both(r, h, "motif", mid, terms)
        for mid, terms in lexicon.ambiguous_motifs.items():
            hits += _roman_hits(r, "motif_ambiguous", mid, terms)
        for mid, terms in lexicon.protected.items():
            hits += _both(r, h, "motif", mid, terms, role="weak")
        if lexicon.sacred_context is not None:
            hits += _both(r, h, "sacred_context", "context", lexicon.sacred_context)
        for group, table in (("posture", lexicon.postures), ("facing", lexicon.facings)):
            for pid, (state, obj) in table.items():
                hits += _both(r, h, group, pid, state) + _both(r, h, group, pid, obj, role="object")
        for pid, terms in lexicon.near.items():
            hits += _both(r, h, "posture", pid, terms, role="near")
        for pid, terms in lexicon.acts.items():
            hits += _both(r, h, "posture", pid, terms, role="act")
        hits += _both(r, h, "agent", "agent", lexicon.agents) + _both(r, h, "linker", "linker", lexicon.linkers)
        if lexicon.causatives is not None:
            hits += _roman_hits(r, "causative", "causative", lexicon.causatives)
        if lexicon.pronouns is not None:
            hits += _both(r, h, "pronoun", "pronoun", lexicon.pronouns)
        if lexicon.depictions is not None:
            hits += _roman_hits(r, "depiction", "depiction", lexicon.depictions)
        if lexicon.anaphora is not None:
            hits += _both(r, h, "anaphor", "anaphor", lexicon.anaphora)
        hits += _mantra_hits(r, h, lexicon)
        hits += [Hit("mantra", "om_symbol", c, i, i + 1) for c, i in chars if c in lexicon.symbols]
        hits += _both(r, h, "generic", "generic", lexicon.generic_mantra)
        hits += _both(r, h, "cue", "writing", lexicon.writing_cues)
        hits += _both(r, h, "heritage", "heritage", lexicon.heritage_context)
        seen = set(found.hits)
        found.hits += [h for h in dict.fromkeys(hits) if h not in seen]
    seen = set(found.hits)
    found.hits += [h for h in dict.fromkeys(_encoded_hits(text, readings(text)[0], lexicon)) if h not in seen]
    # text described by who recites it ("the words the faithful repeat"): a generic mantra term
    found.hits += [Hit("generic", "recited", m.group(), m.start(), m.end()) for p in lexicon.indirect for m in p.finditer(text)]
    for pid, patterns in lexicon.image.items():
        found.hits += [Hit("posture", pid, m.group(), m.start(), m.end(), "image")
                       for p in patterns for m in p.finditer(text)]
    h = hanzi(readings(text)[0])
    for pid, patterns in lexicon.onto.items():
        found.hits += [Hit("posture", pid, m.group(), m.start(), m.end(), "onto")
                       for p in patterns for m in p.finditer(text)]
        found.hits += [Hit("posture", pid, m.group(), h.src[m.start()], h.src[m.end() - 1] + 1, "onto")
                       for p in patterns for m in p.finditer(h.text) if h.text and m.end() > m.start()]
    # A name given to a person ("an old man named Fo", "a wrestler named Hanuman Singh") is not the figure.
    found.hits = [h for h in found.hits if h.group not in ("motif", "motif_ambiguous") or not _NAMED.search(text[:h.start])]
    # A name that is also a person's or a place's ("Tara", the Hill of Tara) is the deity only beside another
    # religious motif or a word of religious context (goddess, statue, thangka, mantra ...).
    # Without such a word the name is kept *weakly* (role "weak"): not a motif to hold, but a figure that a
    # degradation can still be given to ("Kali as a drunk party girl", "pinta a Buda borracho":
    # governance.decisions refuses only lexicon.weak_postures on it) — unless a capitalised word follows
    # it, a surname or a place's noun ("Ganesh Kumar", "Tara Hill", "Buda Castle").
    sacred = any(h.group in ("motif", "sacred_context", "mantra") and h.role != "weak" for h in found.hits)
    found.hits = [Hit("motif", h.ident, h.term, h.start, h.end, h.role if sacred else "weak")
                  if h.group == "motif_ambiguous" else h
                  for h in found.hits if h.group != "motif_ambiguous" or sacred or not _SURNAME.match(text, h.end)]
    found.hits = [h for h in found.hits if not _false_friend(text, h)]
    found.hits = _resolve_anaphora(found.hits)
    found.hits.sort(key=lambda x: (x.start, -x.end))
    return found
