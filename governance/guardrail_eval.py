"""Measuring the prompt guardrails: false refusals on benign prompts, catches on hostile ones.

Paper section 6.2: guardrails for sacred imagery and style anchoring "ensure the technology respects
living cultural traditions while enabling innovative applications" — both halves are measurable. Two
labelled prompt sets ship with the package:

- ``prompts_benign.txt`` — landscapes, flower-and-bird, figures, temples as architecture, monks in a
  landscape, and hard negatives that *look* risky to a naive filter (pinyin "fo" in "Fo Tan", lotus
  ponds, humming birds, "a bird's song", Buddha's-hand citron, 佛手, 曼陀罗花). None may be refused;
  those naming a religious motif are labelled ``hold``;
- ``prompts_hostile.txt`` — mantras in many scripts and disguises, disallowed deity postures and
  directions, period conflations, and combinations; each labelled with the action the shipped policy
  must take (``refuse``; ``anchor`` or ``hold`` for conflations under ``conflation: anchor``).

:func:`evaluate` runs :func:`governance.decisions.check_prompt` on both and reports the false-refusal rate
(benign refused / benign), the hostile catch rate (hostile *not* passed through unchanged as ``allow``),
the hostile refusal rate, and every prompt whose action differs from its label.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from governance.decisions import ACTIONS, check_prompt
from governance.ledger import Entry, Ledger
from governance.policy import Policy

DATA = Path(__file__).resolve().parent / "data"
BENIGN = DATA / "prompts_benign.txt"
HOSTILE = DATA / "prompts_hostile.txt"


class PromptSetError(ValueError):
    """A malformed prompt-set line; names the file and line."""


def read_prompt_set(path: str | os.PathLike[str], default_label: str | None) -> list[tuple[int, str, str]]:
    """``(line number, expected action, prompt)`` per non-comment line. A line is ``label<TAB>prompt``
    or, when ``default_label`` is given, just the prompt."""
    rows = []
    for lineno, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        label, sep, prompt = line.partition("\t")
        if not sep:
            if default_label is None:
                raise PromptSetError(f"{path} line {lineno}: expected 'action<TAB>prompt'")
            label, prompt = default_label, line
        if label not in ACTIONS:
            raise PromptSetError(f"{path} line {lineno}: {label!r} is not one of {', '.join(ACTIONS)}")
        rows.append((lineno, label, prompt))
    if not rows:
        raise PromptSetError(f"{path}: no prompts")
    return rows


@dataclass
class SetResult:
    name: str
    n: int = 0
    by_action: dict[str, int] = field(default_factory=lambda: {a: 0 for a in ACTIONS})
    mismatches: list[dict[str, Any]] = field(default_factory=list)

    def rate(self, *actions: str) -> float:
        return sum(self.by_action[a] for a in actions) / self.n if self.n else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "n": self.n, "by_action": self.by_action, "mismatches": self.mismatches}


@dataclass
class GuardrailReport:
    benign: SetResult
    hostile: SetResult
    conflation: str

    @property
    def false_refusal_rate(self) -> float:
        return self.benign.rate("refuse")

    @property
    def hostile_refusal_rate(self) -> float:
        return self.hostile.rate("refuse")

    @property
    def hostile_caught_rate(self) -> float:
        """Share of hostile prompts not passed through as plain ``allow``."""
        return 1.0 - self.hostile.rate("allow")

    def to_dict(self) -> dict[str, Any]:
        return {"conflation": self.conflation, "false_refusal_rate": round(self.false_refusal_rate, 4),
                "hostile_refusal_rate": round(self.hostile_refusal_rate, 4),
                "hostile_caught_rate": round(self.hostile_caught_rate, 4),
                "benign": self.benign.to_dict(), "hostile": self.hostile.to_dict()}

    def summary(self) -> str:
        b, h = self.benign, self.hostile
        return (f"benign: {b.n} prompts, refused {b.by_action['refuse']} (false-refusal rate "
                f"{self.false_refusal_rate:.1%}), held {b.by_action['hold']}, anchored {b.by_action['anchor']}, "
                f"allowed {b.by_action['allow']}; label mismatches {len(b.mismatches)}\n"
                f"hostile: {h.n} prompts, refused {h.by_action['refuse']} ({self.hostile_refusal_rate:.1%}), "
                f"anchored {h.by_action['anchor']}, held {h.by_action['hold']}, passed unchanged "
                f"{h.by_action['allow']} (caught {self.hostile_caught_rate:.1%}); label mismatches "
                f"{len(h.mismatches)} (conflation policy: {self.conflation})")


def _run(name: str, rows: list[tuple[int, str, str]], policy: Policy, relabel: dict[str, str]) -> SetResult:
    result = SetResult(name)
    for lineno, label, prompt in rows:
        expected = relabel.get(label, label)
        decision = check_prompt(prompt, policy)
        result.n += 1
        result.by_action[decision.action] += 1
        if decision.action != expected:
            result.mismatches.append({"line": lineno, "prompt": prompt, "expected": expected,
                                      "got": decision.action, "reasons": list(decision.reasons)})
    return result


def evaluate(policy: Policy, benign: str | os.PathLike[str] = BENIGN,
             hostile: str | os.PathLike[str] = HOSTILE) -> GuardrailReport:
    """Run both sets under ``policy``. Labels assume ``conflation: anchor``; under ``refuse`` the
    conflation prompts (labelled anchor, or hold because they also name a deity) are expected refused."""
    relabel = {} if policy.periods.conflation == "anchor" else {"anchor": "refuse"}
    hostile_rows = read_prompt_set(hostile, None)
    if policy.periods.conflation == "refuse":
        # A conflation that also names a deity is labelled hold; refused when conflations are refused.
        hostile_rows = [(n, "refuse" if lab == "hold" else lab, p) for n, lab, p in hostile_rows]
    return GuardrailReport(_run("benign", read_prompt_set(benign, "allow"), policy, {}),
                           _run("hostile", hostile_rows, policy, relabel), policy.periods.conflation)


def record_guardrail_eval(ledger: Ledger, report: GuardrailReport) -> Entry:
    """Enter a measurement so the reviewer's report can show the rates the policy achieved."""
    return ledger.append("guardrail_eval", report.to_dict())
