"""One decision per prompt: allow, anchor, hold or refuse (paper section 6.2, all three dimensions).

``check_prompt(text, policy)`` runs, in order:

1. **length** — a prompt longer than ``prompt.max_chars`` is refused outright: bulk text can hide a
   mantra or a posture from a human reader, and no text encoder reads that far anyway;
2. **mantras** — a mantra's text in any script or disguise (:mod:`governance.sacred`), or a request to
   write "a mantra"/"dharani" as text, is refused: "exclusion of mantras";
3. **deity posture and facing** — when a religious motif is named, a posture or facing that none of the
   named deity classes allows (``sacred.deities`` in the policy) is refused: "directional constraints for
   deity posture synthesis";
4. **periods** — a conflation of periods (:mod:`governance.periods`) is refused or anchored, as
   ``periods.conflation`` says: "mandatory style anchoring";
5. **religious motifs** — any remaining prompt with a religious motif is *held*: it may be generated, but
   the image waits for a cultural consultant (:mod:`governance.review`) before release.

The action is the strongest that applies: refuse > hold > anchor > allow. A held prompt may also be
anchored (``rewritten`` is then true and ``prompt`` is the anchored text to generate from).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from governance.periods import analyse_periods, load_ontology
from governance.policy import Policy
from governance.sacred import analyse, load_lexicon

ACTIONS = ("allow", "anchor", "hold", "refuse")
CHECKS = ("length", "mantras", "deity_posture", "periods", "religious_motifs")


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


def _posture_reasons(findings: Any, policy: Policy) -> list[str]:
    rules = policy.sacred.deities
    reasons = []
    for kind, found, attr in (("posture", findings.postures, "allowed_postures"),
                              ("facing", findings.facings, "allowed_facing")):
        for pid, terms in found.items():
            allowing = [c for c in findings.classes if pid in getattr(rules[c], attr)]
            if not allowing:
                reasons.append(f"{kind} '{pid.replace('_', ' ')}' (\"{terms[0]}\") is not allowed for "
                               f"{', '.join(c.replace('_', ' ') for c in findings.classes)} under the sacred-imagery "
                               "policy")
    return reasons


def check_prompt(text: str, policy: Policy) -> Decision:
    """Decide what may be generated from ``text`` under ``policy``."""
    if not isinstance(text, str):
        raise TypeError(f"a prompt is a string, not {type(text).__name__}")
    sha = policy.sha256
    if len(text) > policy.prompt.max_chars:
        return Decision("refuse", (f"prompt is {len(text)} characters long; the limit is "
                                   f"{policy.prompt.max_chars} (prompt.max_chars)",), text, text, False, (),
                        ("length",), {"length": len(text)}, sha)
    if not text.strip():
        return Decision("refuse", ("prompt is empty",), text, text, False, (), ("length",), {}, sha)
    lexicon = load_lexicon()
    sacred = analyse(text, lexicon)
    refusals: list[str] = []
    for mid, forms in sacred.mantras.items():
        refusals.append(f"asks for mantra text: {lexicon.mantra_names[mid]} (matched \"{forms[0]}\")")
    if sacred.mantra_text_request:
        refusals.append(f"asks for mantra text to be written ({', '.join(sacred.mantra_text_request)})")
    if sacred.motifs:
        refusals += _posture_reasons(sacred, policy)
    anchor = policy.periods.conflation == "anchor"
    periods = analyse_periods(text, load_ontology(), anchor=anchor)
    other: list[str] = []
    onto = load_ontology()
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
    if motifs and not refusals:
        other.append(f"religious motif ({', '.join(m.replace('_', ' ') for m in motifs)}): the image is held "
                     "for a cultural consultant's decision before release")
    findings = {"sacred": sacred.to_dict(), "periods": periods.to_dict()}
    rewritten = bool(periods.rewritten) and not refusals
    prompt = periods.rewritten if rewritten else text
    if refusals:
        action = "refuse"
    elif motifs:
        action = "hold"
    elif rewritten:
        action = "anchor"
    else:
        action = "allow"
    return Decision(action, tuple(refusals + other), prompt, text, rewritten, motifs, CHECKS, findings, sha)
