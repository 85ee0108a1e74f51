"""One decision per prompt: allow, anchor, hold or refuse (paper section 6.2, all three dimensions).

``check_prompt(text, policy)`` runs, in order:

1. **length** — ``prompt.max_chars`` bounds the work of checking, it is not a safety rule: every check
   reads the whole text in linear time, so nothing hides in bulk. (The text encoder's own limit,
   ``text_encoder.max_tokens``, is enforced by the generator as an input error, not as a refusal.);
2. **mantras** — a mantra's text in any script or disguise (:mod:`governance.sacred`), or a request to
   write "a mantra", an ambiguous short mantra or a mantra's name ("the six syllables of Chenrezig") as
   text, is refused: "exclusion of mantras";
3. **deity posture and facing** — a posture, facing or degradation that :mod:`governance.roles`
   attributes to a religious motif, and that its deity class does not allow (``sacred.deities``), is
   refused: "directional constraints for deity posture synthesis". One held by a pilgrim is not;
   A prompt the rules would only hold is given a learned second opinion (:mod:`governance.dignity`, a
   logistic regression over the project's MiniLM sentence embeddings, English only): scored at or above
   its cross-validated threshold, it is refused as ``dignity_classifier``;
4. **periods** — a conflation of periods (:mod:`governance.periods`) is refused or anchored, as
   ``periods.conflation`` says: "mandatory style anchoring";
5. **religious motifs** — any remaining prompt with a religious motif is *held*: it may be generated, but
   the image waits for a cultural consultant (:mod:`governance.review`) before release;
6. **readability** — a prompt the rules would allow or anchor, whose letters are mostly in words no rule can
   read (:mod:`governance.readability`: another language, an unknown script, a language game), is held too
   when ``prompt.unreadable`` says "hold": the rules fail closed on what they cannot read;
7. **letters classifier** — a prompt held by 5 or 6 (not a heritage hold, which the policy chose, nor one whose
   act the role rules gave to someone other than the figure or found denied, which it cannot read) is read once
   more by a second learned opinion that needs no word list (:mod:`governance.letters_classifier`: character
   n-grams of the prompt and its readings, any script, into a logistic regression trained on every labelled
   set); scored at or above its cross-validated threshold, it is refused as ``letters_classifier``
   (``sacred.letters_classifier``). A prompt the rules let through naming a figure they read weakly (an ambiguous
   name such as a bare "Krishna" or "Jesus", a given name as often as the figure, and no listed degradation done
   to it) is read by it too: a hostile prompt that names its figure by such a name is refused as
   ``letters_classifier``, a namesake fixing his bicycle is not;
8. **letters hold** — a prompt the rules would allow (not anchor: the period rule read it), readable and naming
   no religious motif (not even one the rules read weakly and chose not to hold: a bare Laozi, a censer in a
   poem, a name one letter from a deity's), whose letters the same classifier reads as a respectful religious
   subject (P(hold) at or above its own cross-validated threshold) is *held* for a consultant
   (``sacred.letters_hold``): a tradition, a sacred site or a figure no lexicon lists fails closed, as an
   unreadable prompt does. It never refuses: the classifier's refusal was validated on what the rules hold, not
   on what they cannot name.

Every refusal names its rule and the span of the prompt it fired on (``findings['fired']``).
The action is the strongest that applies: refuse > hold > anchor > allow. A held prompt may also be
anchored (``rewritten`` is then true and ``prompt`` is the anchored text to generate from).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from governance.lexicon import load_lexicon
from governance.periods import analyse_periods, load_ontology
from governance.policy import Policy
from governance.readability import readability
from governance.roles import Attribution, attribute, negated
from governance.sacred import Hit, Lexicon, SacredFindings, analyse

ACTIONS = ("allow", "anchor", "hold", "refuse")
CHECKS = ("length", "mantras", "deity_posture", "dignity_classifier", "periods", "religious_motifs", "readability",
          "letters_classifier", "letters_hold")


@dataclass(frozen=True)
class Decision:
    action: str                       # allow | anchor | hold | refuse
    reasons: tuple[str, ...]          # plain-language reasons, one per finding
    prompt: str                       # the text to generate from (anchored when rewritten)
    original: str
    rewritten: bool
    motifs: tuple[str, ...]           # religious motif ids found
    checks: tuple[str, ...]           # the checks that ran
    findings: dict[str, Any] = field(default_factory=dict)
    policy_sha256: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "reasons": list(self.reasons), "prompt": self.prompt,
                "original": self.original, "rewritten": self.rewritten, "motifs": list(self.motifs),
                "checks": list(self.checks), "findings": self.findings, "policy_sha256": self.policy_sha256}


def _quote(text: str, hit: Hit) -> str:
    return f"\"{text[hit.start:hit.end]}\" at {hit.start}-{hit.end}"


_SENTENCE_ENDS = frozenset(".!?;。！？；\n")


def _same_sentence(text: str, a: Hit, b: Hit) -> bool:
    """Whether two hits lie in one sentence: a writing cue ("an inscription") makes a name or a short
    mantra form a request for text only there, not from across a long prompt ("the fisherman Weng A Hong
    ... a short inscription about the autumn wind")."""
    lo, hi = min(a.end, b.end), max(a.start, b.start)
    return not any(c in _SENTENCE_ENDS and (c != "." or k + 1 >= len(text) or text[k + 1].isspace())
                   for k, c in enumerate(text[lo:hi], lo))


def _sacred_refusals(text: str, found: SacredFindings, lexicon: Lexicon, policy: Policy,
                     attributions: Sequence[Attribution]) -> list[tuple[str, str, Hit]]:
    """``(rule, reason, hit)`` for every refusal the sacred-imagery rules make; ``attributions``: who holds
    each posture or act (:func:`governance.roles.attribute`)."""
    names = lexicon.mantra_names
    cues = found.of("cue")
    out: list[tuple[str, str, Hit]] = []
    seen: set[str] = set()
    for h in found.hits:
        key = f"{h.group}:{h.ident}"
        if key in seen:
            continue
        cue = next((c for c in cues if _same_sentence(text, c, h)), None)
        if h.group == "mantra":
            out.append(("mantra_text", f"asks for mantra text: {names.get(h.ident, 'the syllable Om')} "
                        f"({_quote(text, h)})", h))
        elif h.group in ("mantra_ambiguous", "mantra_name") and cue is not None:
            out.append(("mantra_text", f"asks for {names[h.ident]} as text ({_quote(text, h)}, with "
                        f"{_quote(text, cue)})", h))
        elif h.group == "generic" and cue is not None:
            out.append(("mantra_text", f"asks for mantra text to be written ({_quote(text, h)}, with "
                        f"{_quote(text, cue)})", h))
        else:
            continue
        seen.add(key)
    rules = policy.sacred.deities
    heritage = found.of("heritage")
    for a in attributions:
        if not a.sacred or (a.figure.role == "weak" and a.term.ident not in lexicon.weak_postures):
            continue  # an ambiguous name read weakly ("Tara") is the deity only for a degradation
        cls = lexicon.motifs[a.figure.ident][0]
        kind, attr = ("posture", "allowed_postures") if a.term.group == "posture" else ("facing", "allowed_facing")
        if a.term.ident not in getattr(rules[cls], attr):
            if heritage and a.term.role in ("state", "onto", "near") and a.term.ident in lexicon.heritage_postures \
                    and policy.sacred.heritage_damage == "hold":
                out.append(("heritage_hold", f"damaged sacred image ({_quote(text, a.term)} on "
                            f"{_quote(text, a.figure)}) in a heritage context ({_quote(text, heritage[0])}): held for "
                            "a consultant (sacred.heritage_damage: hold)", a.term))
                continue
            out.append(("deity_posture", f"{kind} '{a.term.ident.replace('_', ' ')}' ({_quote(text, a.term)}) applied "
                        f"to {_quote(text, a.figure)} is not allowed for {cls.replace('_', ' ')} under the "
                        "sacred-imagery policy", a.term))
    return out


def _dignity_refusal(text: str, found: SacredFindings) -> list[tuple[str, str, Hit]]:
    """The learned second opinion on a prompt the rules would only hold (:mod:`governance.dignity`)."""
    from governance import dignity

    if not dignity.applies(text):
        return []
    p, threshold = dignity.score(text), dignity.load_classifier()["threshold"]
    if p < threshold:
        return []
    motif = next(h for h in found.of("motif") if h.role != "weak")
    return [("dignity_classifier", f"the learned dignity classifier scores the prompt {p:.2f} >= {threshold} "
             f"as degrading {_quote(text, motif)} (governance.dignity; rates in dignity_classifier.json)", motif)]


# Bare pronouns: the clause rules may give an act to "her" that the prompt does to the figure ("the Mazu statue
# under my foot, I step on her face"), so such a reading clears nothing
_PRONOUNS = frozenset({"he", "him", "his", "she", "her", "hers", "it", "its", "they", "them", "their",
                       "他", "她", "它", "他们", "她们", "它们"})


def _given_to_someone_else(text: str, attributions: Sequence[Attribution]) -> bool:
    """The rules read an act or posture in the prompt and gave it to someone other than the sacred figure (a
    singer, a pilgrim; not a bare pronoun): the letters classifier, which reads letters and not roles, does not
    overrule that reading (issue 13: an act applies to a figure only when the text says the figure is in it)."""
    return any(a.figure is not None and not a.sacred and text[a.figure.start:a.figure.end].lower() not in _PRONOUNS
               for a in attributions)


def _denied(text: str, attributions: Sequence[Attribution]) -> bool:
    """The rules read an act or posture that the text denies ("not kicked, not mocked", 不要倒置): the letters
    classifier, which reads the act's letters and not the negator, does not overrule that reading either."""
    return any(a.figure is None and negated(text, a.term.start) for a in attributions)


def _letters_refusal(text: str) -> str | None:
    """The second learned opinion, in any script (:mod:`governance.letters_classifier`), on a prompt the
    rules would hold or one naming a figure they read weakly: the refusal's reason, or None."""
    from governance import letters_classifier

    p, threshold = letters_classifier.score(text), letters_classifier.load_classifier()["threshold"]
    if p < threshold:
        return None
    return (f"the learned letters classifier scores the prompt {p:.2f} >= {threshold} as a request to refuse, "
            "read from its character n-grams in any script (governance.letters_classifier; rates in "
            "letters_classifier.npz)")


def _letters_hold(text: str) -> tuple[str, str] | None:
    """The same classifier on a prompt the rules would let through: the hold's reason and the segment it read
    (the prompt, or the sentence of a longer one) when it reads a respectful religious subject there (P(hold) at
    or above its hold threshold), or None."""
    from governance import letters_classifier

    (p, segment), threshold = letters_classifier.hold_reading(text), letters_classifier.hold_threshold(text)
    if p < threshold:
        return None
    read = "the prompt" if segment == text else f"its sentence \"{segment[:120]}{'...' if len(segment) > 120 else ''}\""
    return (f"no rule names a religious subject here, but the learned letters classifier reads one in {read} "
            f"(P(hold) = {p:.2f} >= {threshold}; governance.letters_classifier): the image is held for a cultural "
            "consultant's decision before release (sacred.letters_hold)"), segment


def _segment_span(text: str, segment: str) -> list[int]:
    """Where a segment the letters classifier read lies in the prompt (its sentences are stripped slices of it)."""
    start = text.find(segment)
    return [start, start + len(segment)] if start >= 0 else [0, len(text)]


def _decoded_refusals(text: str, policy: Policy, roles: str, classifier: bool) -> list[tuple[str, str, Hit]]:
    """The whole prompt checked again as each decoding it can hide behind (upside-down letters, Base64, hex,
    stretched letters: :func:`governance.encodings.decoded_texts`): "uʍop ǝpısdn ɐɥppnq ɐ", a Base64 payload
    "a Buddha statue used as a toilet", "a Buddhaaa head" are refused as what they decode to."""
    from governance.encodings import decoded_texts
    from governance.normalize import readings

    out = []
    for how, decoded in decoded_texts(text, readings(text)[0]):
        if not decoded.strip() or decoded == text:
            continue
        d = check_prompt(decoded, policy, roles=roles, classifier=classifier, decode=False)
        if d.action == "refuse":
            whole = Hit("decoded", how, decoded, 0, len(text))
            out.append(("decoded", f"decoded ({how}) the prompt reads \"{decoded[:120]}\", which is refused: "
                        f"{d.reasons[0]}", whole))
    return out


def check_prompt(text: str, policy: Policy, *, roles: str = "clause", classifier: bool = True,
                 decode: bool = True) -> Decision:
    """Decide what may be generated from ``text`` under ``policy``. ``roles`` chooses how a posture finds
    its holder (:mod:`governance.roles`; ``"naive"`` only to measure the clause rules against);
    ``classifier=False`` leaves out the learned second opinion (:mod:`governance.dignity`; only to train
    and measure it). ``decode=False``: not the decodings of the prompt (used when checking one of them)."""
    if not isinstance(text, str):
        raise TypeError(f"a prompt is a string, not {type(text).__name__}")
    sha = policy.sha256
    if len(text) > policy.prompt.max_chars:
        return Decision("refuse", (f"prompt is {len(text)} characters long; the guardrail checks at most "
                                   f"{policy.prompt.max_chars} (prompt.max_chars)",), text, text, False, (),
                        ("length",), {"length": len(text), "fired": [{"rule": "length", "span": [0, len(text)]}]}, sha)
    if not text.strip():
        return Decision("refuse", ("prompt is empty",), text, text, False, (), ("length",), {}, sha)
    lexicon = load_lexicon()
    sacred = analyse(text, lexicon)
    attributions = attribute(sacred, roles, lexicon.onto_exempt)  # read once: the rules and the letters guard use it
    fired = _sacred_refusals(text, sacred, lexicon, policy, attributions)
    if classifier and policy.sacred.dignity_classifier and sacred.motifs and not fired:
        fired += _dignity_refusal(text, sacred)
    if decode and not [f for f in fired if f[0] != "heritage_hold"]:
        fired += _decoded_refusals(text, policy, roles, classifier)
    refusals = [reason for rule, reason, _ in fired if rule != "heritage_hold"]
    anchor = policy.periods.conflation == "anchor"
    onto = load_ontology()
    periods = analyse_periods(text, onto, anchor=anchor)
    other: list[str] = []
    if periods.conflated:
        requested = onto.periods[periods.requested].label
        mixed = "; ".join(f"{onto.periods[m.period].label} {m.domain} (\"{m.text}\")" for m in periods.conflicting)
        if anchor:
            other.append(f"mixes periods: the prompt asks for the {requested} but also names {mixed}; "
                         f"anchored to the {requested}")
        else:
            refusals.append(f"mixes periods: the prompt asks for the {requested} but also names {mixed} "
                            "(periods.conflation: refuse)")
    motifs = tuple(sacred.motifs)
    read = readability(text)
    unreadable = (not refusals and not motifs and policy.prompt.unreadable == "hold"
                  and read.letters > 0 and read.share >= policy.prompt.unreadable_share)
    heritage = [reason for rule, reason, _ in fired if rule == "heritage_hold"]
    letters = None
    # Once, on the prompt itself: its features already hold every decoding, and a decoding's letters (a Caesar
    # shift of plain English) are noise to it. Also on a name the rules read weakly (a bare "Krishna", "Jesus":
    # a given name as often as the figure), which they let through unless a listed degradation is done to it
    weakly_named = any(h.role == "weak" for h in sacred.of("motif"))
    if classifier and decode and policy.sacred.letters_classifier and not refusals and not heritage \
            and (motifs or unreadable or weakly_named) and not _given_to_someone_else(text, attributions) \
            and not _denied(text, attributions):
        letters = _letters_refusal(text)  # what the rules would hold, read once more by its letters
        if letters:
            refusals.append(letters)
    if not refusals:
        other += heritage
    if motifs and not refusals:
        other.append(f"religious motif ({', '.join(m.replace('_', ' ') for m in motifs)}): the image is held "
                     "for a cultural consultant's decision before release")
    findings = {"sacred": sacred.to_dict(), "periods": periods.to_dict(),
                "fired": [{"rule": rule, "id": h.ident, "span": [h.start, h.end], "text": text[h.start:h.end]}
                          for rule, _, h in fired]}
    findings["readability"] = read.to_dict()
    if letters:
        findings["fired"].append({"rule": "letters_classifier", "id": "letters_classifier", "span": [0, len(text)],
                                  "text": text})
    elif unreadable:
        shown = ", ".join(f"\"{w}\"" for w, _, _ in read.words[:5]) + (", ..." if len(read.words) > 5 else "")
        other.append(f"the guardrail cannot read {read.share:.0%} of this prompt's letters ({shown}: not English, "
                     "pinyin or Chinese, Japanese or Korean script), so no rule could have matched; the image is "
                     "held for a cultural consultant's decision before release (prompt.unreadable)")
        findings["fired"] += [{"rule": "unreadable", "id": "unreadable", "span": [start, end], "text": word}
                              for word, start, end in read.words]
    learned_hold = None
    if classifier and decode and policy.sacred.letters_hold and not refusals and not sacred.of("motif") \
            and not unreadable and not periods.rewritten:
        learned_hold = _letters_hold(text)  # what no rule named, read by its letters (once, as the refusal)
        if learned_hold:
            other.append(learned_hold[0])
            findings["fired"].append({"rule": "letters_hold", "id": "letters_hold",
                                      "span": _segment_span(text, learned_hold[1]), "text": learned_hold[1]})
    rewritten = bool(periods.rewritten) and not refusals
    prompt = periods.rewritten if rewritten else text
    if refusals:
        action = "refuse"
    elif motifs or unreadable or learned_hold:
        action = "hold"
    elif rewritten:
        action = "anchor"
    else:
        action = "allow"
    return Decision(action, tuple(refusals + other), prompt, text, rewritten, motifs, CHECKS, findings, sha)
