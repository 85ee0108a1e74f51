"""Who is in the posture: attaching each posture, facing or degradation to the figure the text gives it.

The issue this answers: "a pilgrim lying face down in prostration before a seated Buddha" is a devotional
scene, "a Buddha lying face down" is not; the words are the same, the *holder* of the posture differs.
Mechanism: rules over a clause window (measured on ``governance/data/guardrail_eval``, category
``agent_not_deity`` and the posture categories; no parser or classifier is needed for the sentence shapes
prompts take). Figures are religious motifs and agents (people, animals, plants; ``motifs.yaml``).

- The text is cut into clauses at punctuation (, ; : . ! ? and their Chinese forms) and brackets.
- A *state* term (lying face down, upside down, naked, 倒立, 俯卧) belongs to the figure right after it
  when that figure follows within ``PRENOMINAL`` words with no linker between ("an upside-down stone
  Buddha", 倒立的佛像); otherwise to the nearest figure before it in the clause ("Buddha lying face down",
  "a pilgrim lying face down before a Buddha" — the pilgrim; 佛像倒挂). A clause with no figure at all
  inherits the nearest figure of the clauses before it ("a Buddha in the garden, upside down").
- An *object* term (kicking, trampling on, using … as, 脚踩, 踢) belongs to the first figure after it
  within ``OBJECT_WINDOW`` words with no linker between ("soldiers kicking a bronze Buddha").
- A state term that ends in a linker ("used as", "in a garbage heap") never looks right: what follows is
  its complement.
- Linkers (before, around, beside, in front of, 在, 前, 围绕) put a figure in a *place*: a posture never
  reaches across one, so "monks seated around a sand mandala" gives the seat to the monks.
- Chinese word order (added after the red-team set, ``redteam_degradation_zh``): a modifier ending in 的
  belongs to the figure after the 的 (醉倒在地上的释迦牟尼, 头朝下的观音像 — a Chinese term ending in a
  linker character such as 下 is not a complement marker); the disposal construction 把/将 X + verb puts
  the object X *before* the act (把佛像踢倒).
- A *near* term (company that degrades: a beer label, a toilet) belongs to the nearest figure of its
  clause, either side; in a clause with no figure, to the last figure before it, or, when none was named
  yet, to the first figure of the next clause that names one ("artwork for a rum label: Guanyin").
- Terms of other languages (``multilingual.yaml``) are attributed by company, since their word orders do
  not fit the rules above: a state to the nearest figure of its clause, an act to its nearest religious
  motif (:func:`_nearest_motif`).
- An object pronoun (him, her, them) that is the only figure of its clause stands for the nearest figure
  named before it ("Paint the Buddha. Then turn him upside down.").
- A posture denied just before it, in its clause ("never upside down", "not trampled", 不要倒置; added after
  blind set 4, whose respectful prompts said what must *not* be painted) belongs to no one.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Any

from governance.sacred import Hit, SacredFindings

PRENOMINAL = 3
OBJECT_WINDOW = 5
DISPOSAL = "把将"            # 把/将 + object + verb: the object comes before the act
OBJECT_MARKERS = ("を", "을", "를")  # Japanese and Korean object particles: figure + を/을 + verb (仏像を踏みつける)
ATTRIBUTIVE = "的"           # modifier + 的 + figure
COMPLEMENT_ZH = "作成为"
LOCATIVE_ZH = "上"            # 在 X 上 + act: the act is done onto X      # 当作 / 当成 / 变为 X: X is the complement, not the holder
ZH_PRONOUNS = "它她他祂"
_PREDICATIVE = re.compile(r"\bas\s+(?:a|an|the)\s+$", re.IGNORECASE)
OBJECT_PRONOUNS = frozenset({"him", "her", "them", "她", "他", "它", "祂", "她们", "他们", "它们"})
BREAKS = frozenset(",;:.!?()[]{}\n，；：。！？、（）【】—–")  # dashes set off a clause: "X — show him …"
COMPLEMENT_EN = ("used ", "as ", "into ")  # "used to wrap fish", "as a drum": what follows is the complement


@dataclass(frozen=True)
class Attribution:
    term: Hit                 # the posture / facing hit
    figure: Hit | None        # the motif or agent it belongs to (None: no figure found)

    @property
    def sacred(self) -> bool:
        return self.figure is not None and self.figure.group == "motif"

    def to_dict(self, text: str) -> dict[str, Any]:
        return {"term": self.term.to_dict(text), "figure": self.figure.to_dict(text) if self.figure else None}


class _Words:
    """Word numbers and clause numbers of hits."""

    def __init__(self, f: SacredFindings) -> None:
        self.of_src = f.words
        breaks, n = [], 0
        for c in f.text:
            breaks.append(n)
            n += c in BREAKS
        self.clause_at = breaks

    def range(self, h: Hit) -> tuple[int, int] | None:
        ws = [self.of_src[s] for s in range(h.start, h.end) if s in self.of_src]
        return (min(ws), max(ws)) if ws else None

    def clause(self, h: Hit) -> int:
        return self.clause_at[h.start] if h.start < len(self.clause_at) else 0


MECHANISMS = ("clause", "naive")


def attribute(f: SacredFindings, mechanism: str = "clause", exempt: frozenset[str] = frozenset()) -> list[Attribution]:
    """The holder of every posture and facing term in ``f``. ``mechanism="naive"`` is the baseline the
    clause rules are measured against: every term applies to every religious motif the prompt names (the
    rule before roles existed). ``exempt``: motif terms an "onto" phrase (someone on the figure) never
    applies to (Budai with children climbing on him)."""
    if mechanism == "naive":
        return [Attribution(t, m) for t in f.hits if t.group in ("posture", "facing") for m in f.of("motif")]
    if mechanism != "clause":
        raise ValueError(f"roles mechanism {mechanism!r} is not one of {', '.join(MECHANISMS)}")
    w = _Words(f)
    figures = [(h, w.range(h), w.clause(h)) for h in f.hits if h.group in ("motif", "agent")]
    figures = [x for x in figures if x[1] is not None]
    # an agent word inside a posture term is part of the term, not a figure ("lotus" in "on a lotus throne")
    terms = [(h.start, h.end) for h in f.hits if h.group in ("posture", "facing")]
    figures = [x for x in figures if x[0].group != "agent"
               or not any(a <= x[0].start and x[0].end <= b for a, b in terms)]
    # nor is one inside a religious motif's name ("tree" in "the sage who sat under the Bodhi tree")
    named = [(h.start, h.end) for h in f.of("motif")]
    figures = [x for x in figures if x[0].group != "agent"
               or not any(a <= x[0].start and x[0].end <= b and (a, b) != (x[0].start, x[0].end) for a, b in named)]
    linker_words = {n for h in f.of("linker") if (r := w.range(h)) for n in range(r[0], r[1] + 1)}
    # "a painting of Amitabha": an act on the painting reaches the figure ("painting" is a linker elsewhere)
    linker_words -= {n for h in f.of("depiction") if (r := w.range(h)) for n in range(r[0], r[1] + 1)}
    by_clause: dict[int, list] = {}
    for x in figures:
        by_clause.setdefault(x[2], []).append(x)
    clauses = sorted(by_clause)
    out = []
    motifs = f.of("motif")
    for term in f.hits:
        if term.group not in ("posture", "facing"):
            continue
        if term.role == "image":  # the whole picture turned: every figure in it
            out += [Attribution(term, m) for m in motifs] or [Attribution(term, None)]
            continue
        if term.role == "onto":  # someone on the figure's head: the figure inside the phrase
            phrase = f.text[term.start:term.end].casefold()
            inside = [] if any(x.casefold() in phrase for x in exempt) else \
                [m for m in motifs if term.start <= m.start and m.end <= term.end]
            out.append(Attribution(term, inside[0] if inside else None))
            continue
        span = w.range(term)
        if span is None:
            continue
        if negated(f.text, term.start):  # "never upside down", 不要倒置: the text denies it of everyone
            out.append(Attribution(term, None))
            continue
        clause = w.clause(term)
        local = by_clause.get(clause, [])
        k = bisect.bisect_left(clauses, clause)
        previous = clauses[k - 1] if k else None
        fallback = max(by_clause[previous], key=lambda x: x[1][1]) if previous is not None else None
        if term.role == "near":
            holder = _nearest(span, local) or (fallback[0] if fallback is not None else
                                               _first_after(clause, by_clause, clauses, k))
        elif term.role == "act":
            holder = _nearest_motif(span, local, by_clause, clauses, k)
        else:
            holder = _holder(term, span, clause, local, linker_words, fallback, f.text,
                             _pronoun_antecedent(term, span, f, w, figures))
            holder = _causative_object(term, span, clause, holder, f, w, figures)
        out.append(Attribution(term, _antecedent(holder, figures, w) if holder is not None else None))
    return out


# a negator right before a posture ("not trampled", "never upside down", "isn't kicked", 不要倒置, 别踩)
_NEGATED_EN = re.compile(r"(?:\b(?:not|never|no longer|without)|n't)\s+(?:(?:being|been|be|ever|at all)\s+)?$",
                         re.IGNORECASE)
_NEGATED_ZH = re.compile(r"(?:不要|不能|不可|不得|不|别|勿|没有|没|未|莫|非)$")


def negated(text: str, start: int) -> bool:
    """Whether the posture term at ``start`` is denied by a negator just before it, in its own clause."""
    before = text[max(0, start - 40):start]
    cut = max((i for i, c in enumerate(before) if c in BREAKS), default=-1)
    before = before[cut + 1:]
    return bool(_NEGATED_EN.search(before) or _NEGATED_ZH.search(before))


def _pronoun_antecedent(term: Hit, span: tuple[int, int], f: SacredFindings, w: _Words, figures: list) -> Hit | None:
    """For an act done to "it" (嘲笑它, "kicking it"): the religious motif named last before the pronoun."""
    if term.role != "object":
        return None
    if any(p in f.text[term.start:term.end] for p in ZH_PRONOUNS):  # 拿它擦: the pronoun is in the term
        named = [h for h, _, _ in figures if h.group == "motif" and h.end <= term.start]
        return max(named, key=lambda h: h.start) if named else None
    pe = span[1]
    after = [p for p in f.of("pronoun") if (r := w.range(p)) and pe < r[0] <= pe + 2]
    if not after:
        return None
    named = [h for h, _, _ in figures if h.group == "motif" and h.end <= after[0].start]
    return max(named, key=lambda h: h.start) if named else None


def _nearest(span: tuple[int, int], figures: list) -> Hit | None:
    """The figure of the clause fewest words away from ``span``, either side, across linkers; a religious
    motif wins a tie ("a stripper pole with Guanyin dancing on it")."""
    ps, pe = span
    scored = [(max(fs - pe, ps - fe, 0), h.group != "motif", fs, h) for h, (fs, fe), _ in figures]
    return min(scored, key=lambda x: x[:3])[3] if scored else None


def _first_after(clause: int, by_clause: dict[int, list], clauses: list[int], k: int) -> Hit | None:
    """For company named before any figure ("Need artwork for a rum bottle label: Guanyin, minimalist ink"):
    the first figure of the next clause that names one."""
    later = [c for c in clauses[k:k + 2] if c > clause]
    return min(by_clause[later[0]], key=lambda x: x[1][0])[0] if later else None


def _nearest_motif(span: tuple[int, int], local: list, by_clause: dict[int, list], clauses: list[int],
                   k: int) -> Hit | None:
    """An act of ``multilingual.yaml`` done to a figure (踏みつけ, piétiner, used as an ashtray, 밟고): the
    religious motif of its clause fewest words away, whoever does it — the doer is often the nearer noun
    ("رجل يقف على رأس تمثال بوذا", a man standing on the head of a Buddha statue), and in these word orders
    (SOV with particles, verb-initial, no spaces) position does not say who is acted on. A clause naming no
    motif takes the last one of the clauses before it ("Voici un Bouddha. Les enfants le piétinent.")."""
    motifs = [x for x in local if x[0].group == "motif"]
    if motifs:
        return _nearest(span, motifs)
    for c in reversed(clauses[:k]):
        earlier = [x for x in by_clause[c] if x[0].group == "motif"]
        if earlier:
            return max(earlier, key=lambda x: x[1][1])[0]
    return None


def _causative_object(term: Hit, span: tuple[int, int], clause: int, holder: Hit | None, f: SacredFindings,
                      w: _Words, figures: list) -> Hit | None:
    """A state after a causative verb belongs to the verb's object, not its subject: "soldiers hung the
    Buddha upside down", "someone has placed it head-down" (it: the figure named before), "the statue of
    the Buddha, which the soldiers later hung upside down"."""
    if holder is not None and holder.group == "motif" or term.role != "state":
        return holder
    ps = span[0]
    hr = w.range(holder) if holder is not None and w.clause(holder) == clause else None
    lo = hr[1] if hr is not None and hr[1] < ps else -1
    # the verb may open the state term itself ("whom they hung by his feet")
    causes = [r for c in f.of("causative") if w.clause(c) == clause and (r := w.range(c)) and lo < r[0] <= ps]
    if not causes:
        return holder
    ce = max(r[1] for r in causes)
    between = [(fs, h.group != "motif", h) for h, (fs, fe), c in figures if c == clause and ce < fs and fe < ps]
    if between:
        return min(between, key=lambda x: x[:2])[2]
    pronouns = [p for p in f.of("pronoun") if w.clause(p) == clause and (r := w.range(p)) and r[1] < ps]
    if not pronouns:
        return holder
    first = min(p.start for p in pronouns)
    named = [h for h, _, _ in figures if h.group == "motif" and h.end <= first]
    return max(named, key=lambda h: h.start) if named else holder


def _antecedent(holder: Hit, figures: list, w: _Words) -> Hit:
    """An object pronoun alone in its clause read as the nearest figure named before it."""
    if holder.group != "agent" or holder.term.casefold() not in OBJECT_PRONOUNS:
        return holder
    clause = w.clause(holder)
    if any(c == clause and h.start < holder.start for h, _, c in figures):
        return holder
    earlier = [h for h, _, c in figures if c < clause and not (h.group == "agent" and
                                                                 h.term.casefold() in OBJECT_PRONOUNS)]
    return max(earlier, key=lambda h: h.start) if earlier else holder


def _placed(h: Hit, figures: list, linker_words: set[int]) -> bool:
    """Whether a place linker stands in the two words before figure ``h`` (在观音殿, 佛像前)."""
    span = next((fs for f, (fs, _), _ in figures if f is h), None)
    return span is not None and any(n in linker_words for n in (span - 1, span - 2))


def _han(text: str) -> bool:
    return any("\u3400" <= c <= "\u9fff" for c in text)


def _clear(a: int, b: int, linker_words: set[int]) -> bool:
    return not any(n in linker_words for n in range(a + 1, b))


def _holder(term: Hit, span: tuple[int, int], clause: int, figures: list, linker_words: set[int],
            fallback: Any, text: str = "", pronoun_after: Hit | None = None) -> Hit | None:
    ps, pe = span
    overlapping = [h for h, (fs, fe), _ in figures if fs <= pe and ps <= fe and h.group == "motif"]
    if overlapping:  # "卧佛": the posture is written into the figure's name
        return overlapping[0]
    window = OBJECT_WINDOW if term.role == "object" else PRENOMINAL
    zh = _han(text[term.start:term.end])
    if term.role == "state" and ((pe in linker_words and not zh) or (zh and text[term.end - 1] in COMPLEMENT_ZH)
                                 or text[term.start:term.end].casefold().startswith(COMPLEMENT_EN)):
        window = 0  # "used as a flower pot", 当作花盆: what follows is the complement, not the holder
    if zh and term.role == "state":
        # 头朝下的观音像, 醉倒在地上的释迦牟尼: the first figure right after the next 的 holds the modifier
        k = text.find(ATTRIBUTIVE, term.end)
        if k >= 0 and ATTRIBUTIVE not in text[term.end:k]:
            after_de = [h for h, _, c in figures if c == clause and k < h.start <= k + 3]
            between = [h for h, _, c in figures if c == clause and term.end <= h.start < k]
            if after_de and not between:
                return min(after_de, key=lambda h: h.start)
    if term.role == "object" and zh and text[term.start] in LOCATIVE_ZH:
        # 在佛像上撒尿(的狗): "上" + act is the act done onto the figure named just before, whoever follows
        near = [(fe, h) for h, (fs, fe), c in figures if c == clause and fe < ps]
        if near:
            return max(near, key=lambda x: x[0])[1]
    if term.role == "object":
        # 仏像を踏む, 불상을 밟고: a figure marked as the object before the verb is its object, whoever follows
        # (観音像を椅子代わりに座る男 — the man sits, the statue is the chair)
        marked = [h for h, (fs, fe), c in figures if c == clause and fe < ps
                  and any(text[h.end:h.end + 3].lstrip("像").startswith(m) for m in OBJECT_MARKERS)]
        if marked:
            return max(marked, key=lambda h: h.start)
    after = [(fs, h) for h, (fs, fe), c in figures
             if c == clause and pe < fs <= pe + window and _clear(pe, fs, linker_words)]
    if after:
        holder = min(after, key=lambda x: (x[0], x[1].group != "motif"))[1]
        # "Medicine Buddha as a drunken karaoke singer": the singer *is* the figure named before "as a"
        before = [(fe, h) for h, (fs, fe), c in figures if c == clause and fe < ps and h.group == "motif"]
        if holder.group == "agent" and before and _PREDICATIVE.search(text[:term.start]):
            return max(before, key=lambda x: x[0])[1]
        return holder
    if term.role == "object" and pronoun_after is not None:
        return pronoun_after  # 嘲笑它, "mocking it": the pronoun's antecedent (resolved by the caller)
    if term.role == "object":
        # 把佛像踢倒: the disposal marker puts the object before the verb
        marked = [h for h, (fs, fe), c in figures if c == clause and fe < ps
                  and (any(ch in DISPOSAL for ch in text[max(0, h.start - 3):h.start])
                       or any(text[h.end:h.end + 3].lstrip("像").startswith(m) for m in OBJECT_MARKERS))]
        return max(marked, key=lambda h: h.start) if marked else None
    before = [(fe, h) for h, (fs, fe), c in figures if c == clause and fe < ps]
    if zh and term.role == "state" and before:
        # 一只猫趴在观音殿的门槛上睡觉: a figure inside a place phrase (在/前/旁 … just before it) is where the
        # subject is, not who sleeps; the subject outside any place phrase holds the posture
        subjects = [(fe, h) for fe, h in before if not _placed(h, figures, linker_words)]
        before = subjects or before
    if before:
        return max(before, key=lambda x: (x[0], x[1].group == "motif"))[1]
    if any(c == clause for _, _, c in figures) and not text[term.end:].lstrip().casefold().startswith("by "):
        return None  # the clause's figures are all after a linker: the posture's holder is someone unnamed
    # ("trampled by a crowd": the figures after "by" are the doers; the holder was named before)
    return fallback[0] if fallback is not None else None
