"""Sacred imagery in prompts: religious motifs, mantras, postures, agents (paper section 6.2).

"Sacred imagery generation requires rigorous protocols ... exclusion of mantras, directional constraints
for deity posture synthesis, and mandatory cultural consultant validation for any religious motif
creation." This module *recognises*, with a span for every finding; :mod:`governance.lexicon` compiles
the terms it looks for from three data files (motifs, multilingual names, mantras; sources there),
:mod:`governance.roles` decides who a posture belongs to and :mod:`governance.decisions` decides.

Latin-script terms are compared on the letter stream of :mod:`governance.normalize` with word boundaries
at both ends (a plural -s/-es accepted), across spaces and hyphens — "Kuan-yin", "B u d d h a" and
"Buddha-statue" all match; a mantra form of ``glued_min_letters`` or more letters matches without
boundaries (glued into other text). Chinese terms are compared on the simplified text (OpenCC), minus
listed compounds that only look religious (佛手 citron, 睡莲 water lily). Beyond exact forms: a misspelt
name (:mod:`governance.misspellings`, read as an ambiguous name) and a mantra reordered or respelled by ear
(:mod:`governance.mantra_respellings`).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

import regex

from governance.encodings import encoded_readings, shift_signature
from governance.mantra_respellings import reordered, respelled
from governance.masked_names import MaskedNames
from governance.misspellings import NameIndex, words_and_pairs
from governance.normalize import Hanzi, Roman, hanzi, readings, roman, views

_SURNAME = re.compile(r"[ \t]+[A-Z][a-z]")
_NAMED = re.compile(r"\b(?:named|called|nicknamed|surnamed)\s+(?:[A-Z]\w*\s+(?:and\s+)?)?$|(?:名叫|叫做|名为)$")


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
    def _latin_search(self) -> "ahocorasick.Automaton | None":
        return _keyword_automaton(key for _, key in self.words)

    @functools.cached_property
    def _zh_search(self) -> "ahocorasick.Automaton | None":
        return _keyword_automaton(self.zh)

    def find_words(self, r: Roman, glued_min: int = 0, allow_han: bool = False) -> Iterable[tuple[str, int, int]]:
        """``(term, first letter, end letter)`` of every boundary-respecting occurrence, in ``words`` order
        and, for each term, in order of position."""
        blocked = None
        for n, pos, key in _keyword_occurrences(self._latin_search, r.letters):
            end = _accepted(r, pos, key, glued_min, allow_han, key in self.stems)
            if end is None:
                continue
            if blocked is None:
                blocked = [(a, b) for ex in self.word_exceptions for a, b in _occurrences(r, ex, 0, True)]
            if not any(a < end and pos < b for a, b in blocked):
                yield self.words[n][0], pos, end

    def find_zh(self, h: Hanzi, words: tuple[tuple[int, int], ...] = ()) -> Iterable[tuple[str, int, int]]:
        """Occurrences of the Chinese terms; one lying wholly inside a listed compound (佛 in 佛手 "citron")
        is discarded, one that only overlaps it is kept (药师佛 in 药师佛手持药钵: the compound is a false
        reading across a word boundary). ``words``: the text's word segmentation, for names; a name it cuts
        across is not there either: 景观|音乐 holds no 观音, 比如|来自 no 如来, 妈妈|祖传 no 妈祖
        (:func:`_crosses_words`)."""
        text, inside = h.text, None
        for _, pos, term in _keyword_occurrences(self._zh_search, text):
            if inside is None:
                inside = [(a, a + len(ex)) for ex in self.zh_exceptions for a in _positions(text, ex)]
            end = pos + len(term)
            if not any(a <= pos and end <= b for a, b in inside) and not _crosses_words(words, pos, end):
                yield term, h.src[pos], h.src[end - 1] + 1


def _keyword_automaton(keys: Iterable[str]) -> "ahocorasick.Automaton | None":
    """An Aho–Corasick automaton (pyahocorasick; Aho & Corasick 1975) of ``keys``, each to its positions in
    ``keys``: one pass over a text finds every occurrence of every key, where a search per key scans the text
    once for each of the lexicon's thousands of keys. None for no keys."""
    import ahocorasick

    positions: dict[str, list[int]] = {}
    for n, key in enumerate(keys):
        positions.setdefault(key, []).append(n)
    if not positions:
        return None
    automaton = ahocorasick.Automaton()
    for key, ns in positions.items():
        automaton.add_word(key, (key, tuple(ns)))
    automaton.make_automaton()
    return automaton


def _keyword_occurrences(automaton: "ahocorasick.Automaton | None", text: str) -> list[tuple[int, int, str]]:
    """``(position of the key in the list, start in text, key)`` of every occurrence, overlapping ones
    included, ordered by the key's position in the list, then by start (the order of a search key by key)."""
    if automaton is None or not text:
        return []
    return sorted((n, last - len(key) + 1, key) for last, (key, ns) in automaton.iter(text) for n in ns)


def _positions(text: str, sub: str) -> Iterable[int]:
    """Every start of ``sub`` in ``text``, overlapping ones included."""
    pos = text.find(sub)
    while pos >= 0:
        yield pos
        pos = text.find(sub, pos + 1)


_HAN_CHAR = regex.compile(r"\p{Han}")


@functools.lru_cache(maxsize=4)
def _segmenter(names: tuple[str, ...]) -> Any:
    """jieba's segmenter (dictionary + HMM; jieba-rs through the rjieba binding) that also knows every
    name the lexicon looks for: a name it has not heard of (坛城 "mandala") would be cut as two words."""
    import rjieba  # local: ~0.4 s to load, only when a prompt has Chinese characters

    segmenter = rjieba.Jieba()
    for name in names:  # a name jieba knows keeps its own frequency (景观|音乐 stays two words, not 景|观音|乐)
        if not segmenter.has_word(name):
            segmenter.add_word(name, segmenter.suggest_freq(name), None)
    return segmenter


def zh_words(text: str, names: tuple[str, ...]) -> tuple[tuple[int, int], ...]:
    """Word spans of ``text`` (:func:`_segmenter` with ``names``); () for text without Chinese characters."""
    if not _HAN_CHAR.search(text):
        return ()
    return tuple((start, end) for _, start, end in _segmenter(names).tokenize(text))


def _crosses_words(words: tuple[tuple[int, int], ...], pos: int, end: int) -> bool:
    """Whether ``text[pos:end]`` begins or ends inside a segmented word that runs past it on that side:
    the characters belong to two words, not to one name. A term inside a longer word (观音 in 观音像) or
    spanning whole words (南无|阿弥陀佛) does not cross. Only names of two or three characters are read
    so: a longer term (释迦牟尼, a mantra glued into a sentence) is no accident of adjacent words, and a
    segmenter's dictionary does not know every mantra."""
    if not 2 <= end - pos <= 3:
        return False
    return any((a < pos < b < end) or (pos < a < end < b) for a, b in words)


def _accepted(r: Roman, pos: int, key: str, glued_min: int, allow_han: bool, stem: bool = False) -> int | None:
    """The end of the occurrence of ``key`` at letter ``pos`` if it counts (word boundaries unless the key is
    long enough to count glued, a plural -s/-es taken in, or any ending for a stem), else None."""
    letters, end = r.letters, pos + len(key)
    # a Latin name is not read in the pinyin of Chinese text alone, but is in a word that mixes both
    # ("观yin", "Guan音": one name written half in characters, half in pinyin)
    if not allow_han and all(r.han[pos:end]):
        return None
    if glued_min and len(key) >= glued_min:
        return end
    if r.crosses_break(pos, end) or not r.starts_word(pos):
        return None
    if stem or r.ends_word(end - 1):
        return end
    return next((end + len(s) for s in ("s", "es") if letters.startswith(s, end)
                 and r.ends_word(end + len(s) - 1) and r.word[end + len(s) - 1] == r.word[end - 1]), None)


def _occurrences(r: Roman, key: str, glued_min: int, allow_han: bool, stem: bool = False) -> Iterable[tuple[int, int]]:
    """Every counted occurrence of one key (:func:`_accepted`), in order of position."""
    for pos in _positions(r.letters, key):
        end = _accepted(r, pos, key, glued_min, allow_han, stem)
        if end is not None:
            yield pos, end


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
    def zh_names(self) -> tuple[str, ...]:
        """The Chinese names (of figures, protected objects, mantras' indirect names, sacred context) that
        are read against the word segmentation, which is taught them (:func:`_segmenter`)."""
        groups = [t for _, t in self.motifs.values()] + list(self.protected.values()) + \
            [m.names for m in self.mantras] + ([self.sacred_context] if self.sacred_context else [])
        return tuple(sorted({z for t in groups for z in t.zh}))

    @functools.cached_property
    def figure_names(self) -> tuple[tuple[str, str], ...]:
        """``(motif id, written form)`` of every figure's Latin-script name, the ambiguous ones included."""
        return tuple([(ident, term) for ident, (_, terms) in self.motifs.items() for term, _ in terms.words]
                     + [(ident, term) for ident, terms in self.ambiguous_motifs.items() for term, _ in terms.words])

    @functools.cached_property
    def names(self) -> NameIndex:
        """The religious figures' names that a misspelling is compared with (a misspelling is read as an
        ambiguous name in any case: :func:`_misspelled`)."""
        return NameIndex.of(self.figure_names)

    @functools.cached_property
    def masked_names(self) -> MaskedNames:
        """The same names, for words with letters blanked out (:func:`_masked`)."""
        return MaskedNames.of(self.figure_names)

    @functools.cached_property
    def latin_mantra_forms(self) -> tuple[tuple[str, str], ...]:
        """``(mantra id, written form)`` of every mantra form in Latin letters (reordered, respelled)."""
        return tuple((m.ident, term) for m in self.mantras for term, _ in m.forms.words if term.isascii())

    @functools.cached_property
    def shift_keys(self) -> tuple[tuple[str, str], ...]:
        """:func:`_shift_keys`, computed once per lexicon (the same for every prompt)."""
        return _shift_keys(self)


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


def _zh_hits(h: Hanzi, group: str, ident: str, terms: Terms, role: str = "state",
             words: tuple[tuple[int, int], ...] = ()) -> list[Hit]:
    return [Hit(group, ident, term, s, e, role) for term, s, e in terms.find_zh(h, words)]


def _both(r: Roman, h: Hanzi, group: str, ident: str, terms: Terms, role: str = "state",
          words: tuple[tuple[int, int], ...] = (), **kw: Any) -> list[Hit]:
    """Hits in the letters and in the Chinese text; ``words``, the segmentation, only for names: a
    degradation or a place word is kept even where jieba glues it to the word before (菩萨cos|成夜店: yet
    夜店 "nightclub" is there), since missing one costs more than a spurious one."""
    return _roman_hits(r, group, ident, terms, role, **kw) + _zh_hits(h, group, ident, terms, role, words)


def _mantra_hits(r: Roman, h: Hanzi, lex: Lexicon, han_forms: bool = True,
                 words: tuple[tuple[int, int], ...] = ()) -> list[Hit]:
    out = []
    for m in lex.mantras:
        out += _roman_hits(r, "mantra", m.ident, m.forms, glued_min=lex.glued_min_letters, allow_han=True)
        if han_forms:
            out += _zh_hits(h, "mantra", m.ident, m.forms)
        out += _roman_hits(r, "mantra_ambiguous", m.ident, m.ambiguous, allow_han=True)
        out += _both(r, h, "mantra_name", m.ident, m.names, words=words)
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
        hits = _reading_hits(r, h, chars, lexicon)
        seen = set(found.hits)
        found.hits += [h for h in dict.fromkeys(hits) if h not in seen]
    seen = set(found.hits)
    found.hits += [h for h in dict.fromkeys(_encoded_hits(text, readings(text)[0], lexicon)) if h not in seen]
    found.hits += _pattern_hits(text, lexicon)
    found.hits += _misspelled(text, found.hits, lexicon)
    found.hits += _masked(text, lexicon)
    found.hits += _reordered_or_respelled(text, lexicon)
    found.hits = _named_and_ambiguous(text, found.hits)
    found.hits = [h for h in found.hits if not _false_friend(text, h)]
    found.hits = _resolve_anaphora(found.hits)
    found.hits.sort(key=lambda x: (x.start, -x.end))
    return found


def _reading_hits(r: Roman, h: Hanzi, chars: list[tuple[str, int]], lexicon: Lexicon) -> list[Hit]:
    """The hits of every lexicon entry in one reading of the text (its letter stream and its Chinese)."""
    hits: list[Hit] = []
    words = zh_words(h.text, lexicon.zh_names)
    for mid, (_, terms) in lexicon.motifs.items():
        hits += _both(r, h, "motif", mid, terms, words=words)
    for mid, terms in lexicon.ambiguous_motifs.items():
        hits += _roman_hits(r, "motif_ambiguous", mid, terms)
    for mid, terms in lexicon.protected.items():
        hits += _both(r, h, "motif", mid, terms, role="weak", words=words)
    if lexicon.sacred_context is not None:
        hits += _both(r, h, "sacred_context", "context", lexicon.sacred_context, words=words)
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
    hits += _mantra_hits(r, h, lexicon, words=words)
    hits += [Hit("mantra", "om_symbol", c, i, i + 1) for c, i in chars if c in lexicon.symbols]
    hits += _both(r, h, "generic", "generic", lexicon.generic_mantra)
    hits += _both(r, h, "cue", "writing", lexicon.writing_cues)
    hits += _both(r, h, "heritage", "heritage", lexicon.heritage_context)
    return hits


def _misspelled(text: str, hits: list[Hit], lexicon: Lexicon) -> list[Hit]:
    """Hits of words (or two adjacent words) that misspell a figure's name, where no name was found: read as
    an ambiguous name (:func:`_named_and_ambiguous`), since one edit also reaches people's and places' names
    (Guan Yinhua, Foping, Sa Pa): the figure beside religious context, else only for a degradation."""
    named = bytearray(len(text))   # characters inside a name already found (linear in the text, not hits x words)
    for x in hits:
        if x.group in ("motif", "motif_ambiguous"):
            named[x.start:x.end] = b"\x01" * (x.end - x.start)
    out = []
    for spans in words_and_pairs(text):
        start, end = spans[0][0], spans[-1][1]
        if any(named[start:end]):
            continue
        found = lexicon.names.closest([text[a:b] for a, b in spans])
        if found is not None:
            out.append(Hit("motif_ambiguous", found[0], f"{found[1]} (misspelt: {text[start:end]})", start, end))
            named[start:end] = b"\x01" * (end - start)
    return out


def _masked(text: str, lexicon: Lexicon) -> list[Hit]:
    """A figure's name with letters blanked out (B*ddha, J█de Emp█ror): the figure, not an ambiguous name —
    censoring it is no accident (:mod:`governance.masked_names`)."""
    return [Hit("motif", ident, f"{term} (masked: {text[a:b]})", a, b)
            for ident, term, a, b in lexicon.masked_names.find(text)]


def _reordered_or_respelled(text: str, lexicon: Lexicon) -> list[Hit]:
    """Mantra hits of a written form's words out of order, or respelled by ear (:mod:`governance.mantra_respellings`)."""
    forms = lexicon.latin_mantra_forms
    return ([Hit("mantra", ident, f"reordered: {form}", a, b) for ident, form, a, b in reordered(text, forms)]
            + [Hit("mantra", ident, f"respelled: {form}", a, b) for ident, form, a, b in respelled(text, forms)])


def _pattern_hits(text: str, lexicon: Lexicon) -> list[Hit]:
    """The lexicon's regular expressions on the whole text: who recites it, whole-picture turns, someone on
    the figure (on the source text, and for ``onto`` also on its simplified Chinese)."""
    # text described by who recites it ("the words the faithful repeat"): a generic mantra term
    out = [Hit("generic", "recited", m.group(), m.start(), m.end()) for p in lexicon.indirect for m in p.finditer(text)]
    for pid, patterns in lexicon.image.items():
        out += [Hit("posture", pid, m.group(), m.start(), m.end(), "image")
                for p in patterns for m in p.finditer(text)]
    h = hanzi(readings(text)[0])
    for pid, patterns in lexicon.onto.items():
        out += [Hit("posture", pid, m.group(), m.start(), m.end(), "onto")
                for p in patterns for m in p.finditer(text)]
        out += [Hit("posture", pid, m.group(), h.src[m.start()], h.src[m.end() - 1] + 1, "onto")
                for p in patterns for m in p.finditer(h.text) if h.text and m.end() > m.start()]
    return out


def _named_and_ambiguous(text: str, hits: list[Hit]) -> list[Hit]:
    """Names given to people dropped; ambiguous names resolved to the deity, kept weakly, or dropped."""
    # A name given to a person ("an old man named Fo", "a wrestler named Hanuman Singh") is not the figure.
    hits = [h for h in hits if h.group not in ("motif", "motif_ambiguous") or not _NAMED.search(text[:h.start])]
    # A name that is also a person's or a place's ("Tara", the Hill of Tara) is the deity only beside another
    # religious motif or a word of religious context (goddess, statue, thangka, mantra ...).
    # Without such a word the name is kept *weakly* (role "weak"): not a motif to hold, but a figure that a
    # degradation can still be given to ("Kali as a drunk party girl", "pinta a Buda borracho":
    # governance.decisions refuses only lexicon.weak_postures on it) — unless a capitalised word follows
    # it, a surname or a place's noun ("Ganesh Kumar", "Tara Hill", "Buda Castle").
    sacred = any(h.group in ("motif", "sacred_context", "mantra") and h.role != "weak" for h in hits)
    return [Hit("motif", h.ident, h.term, h.start, h.end, h.role if sacred else "weak")
            if h.group == "motif_ambiguous" else h
            for h in hits if h.group != "motif_ambiguous" or sacred or not _SURNAME.match(text, h.end)]
