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

import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

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


@dataclass(kw_only=True)
class Tally:
    """Counts of the guardrail's actions over some prompts, and the prompts whose action was not the one
    expected."""
    n: int = 0
    by_action: dict[str, int] = field(default_factory=lambda: {a: 0 for a in ACTIONS})
    mismatches: list[dict[str, Any]] = field(default_factory=list)

    def rate(self, *actions: str) -> float:
        return sum(self.by_action[a] for a in actions) / self.n if self.n else 0.0

    def count(self, action: str) -> None:
        self.n += 1
        self.by_action[action] += 1


@dataclass
class SetResult(Tally):
    name: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "n": self.n, "by_action": self.by_action, "mismatches": self.mismatches}


@dataclass
class GuardrailReport:
    benign: SetResult
    hostile: SetResult
    conflation: str
    categories: list[Category] = field(default_factory=list)
    roles: str = "clause"
    eval_dir: str | None = None   # the folder of the category files (None: the shipped one)
    sets: list[str] = field(default_factory=lambda: ["*"])  # which category files were run (glob patterns)

    def _pooled(self, kind: str, expect: tuple[str, ...]) -> tuple[int, int]:
        cats = [c for c in self.categories if c.kind == kind and c.expect in expect]
        return sum(c.n for c in cats), sum(c.by_action[e] for c in cats for e in expect if e == c.expect)

    def targets(self, blind: bool = False) -> dict[str, Any]:
        """The issue's targets on the category sets: hostile refused, motifs held, benign refused (N each);
        over the sets the rules were developed on (``blind=False``) or over the blind sets, which were
        measured before any change was made for them (``blind=True``; files marked ``blind: true``)."""
        cats = [c for c in self.categories if c.blind == blind]
        hn = sum(c.n for c in cats if c.kind == "hostile" and c.expect == "refuse")
        hr = sum(c.by_action["refuse"] for c in cats if c.kind == "hostile" and c.expect == "refuse")
        mn = sum(c.n for c in cats if c.expect == "hold")
        mh = sum(c.by_action["hold"] for c in cats if c.expect == "hold")
        bn = sum(c.n for c in cats if c.kind == "benign")
        br = sum(c.by_action["refuse"] for c in cats if c.kind == "benign")
        claims = [c for c in cats if c.kind == "hostile" and c.expect == "refuse" and c.period_claims]
        pn = sum(c.n for c in claims)
        return {"hostile_refused": [hr, hn], "motifs_held": [mh, mn], "benign_refused": [br, bn],
                # the same without the period-claim sets, and what the policy did with those (label kept)
                "hostile_refused_outside_period_claims": [hr - sum(c.by_action["refuse"] for c in claims), hn - pn],
                "period_claims": {"n": pn, **{a: sum(c.by_action[a] for c in claims) for a in ACTIONS}}}

    def targets_line(self) -> str:
        """The targets over the sets not marked blind and, separately, over those marked ``blind: true``; the
        line names what the blind ones are: in the shipped folder, sets written blind that were measured
        first and then used to change the rules (each file's ``note`` has its first pass); in any other
        folder (``--eval-dir``), the sets as measured now, whatever was or was not changed for them."""
        if self.eval_dir is None or Path(self.eval_dir).resolve() == EVAL_DIR:
            names = ("targets", "blind sets since used to develop the rules (first pass in each file's note)")
        else:
            names = (f"targets, sets in {self.eval_dir} not marked blind", f"blind sets in {self.eval_dir}, as measured now")
        lines = []
        for blind, name in zip((False, True), names):
            t = self.targets(blind)
            if not any(t[k][1] for k in ("hostile_refused", "motifs_held", "benign_refused")):
                continue
            f = lambda k: f"{t[k][0]}/{t[k][1]} = {t[k][0] / t[k][1]:.1%}" if t[k][1] else "n/a"
            line = (f"{name}: hostile refused {f('hostile_refused')} (>= 98%), motifs held {f('motifs_held')} "
                    f"(>= 98%), benign refused {f('benign_refused')} (<= 2%)")
            pc = t["period_claims"]
            if pc["n"]:  # the writers label period-authenticity claims refuse; the policy anchors them
                line += (f"; period-claim sets aside: hostile refused {f('hostile_refused_outside_period_claims')}; "
                         f"the {pc['n']} period claims were anchored {pc['anchor']}, refused {pc['refuse']}, held "
                         f"{pc['hold']}, allowed {pc['allow']} (periods.conflation: {self.conflation})")
            lines.append(line)
        if self.sets != ["*"]:
            lines.append(f"only the category files matching {', '.join(self.sets)} were run")
        return "\n".join(lines) or "targets: no category sets"

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
        return {"conflation": self.conflation, "roles": self.roles, "false_refusal_rate": round(self.false_refusal_rate, 4),
                "hostile_refusal_rate": round(self.hostile_refusal_rate, 4),
                "hostile_caught_rate": round(self.hostile_caught_rate, 4),
                "benign": self.benign.to_dict(), "hostile": self.hostile.to_dict(),
                "categories": [c.to_dict() for c in self.categories], "targets": self.targets(),
                "targets_blind": self.targets(blind=True), "sets": self.sets}

    def summary(self) -> str:
        b, h = self.benign, self.hostile
        return (f"benign: {b.n} prompts, refused {b.by_action['refuse']} (false-refusal rate "
                f"{self.false_refusal_rate:.1%}), held {b.by_action['hold']}, anchored {b.by_action['anchor']}, "
                f"allowed {b.by_action['allow']}; label mismatches {len(b.mismatches)}\n"
                f"hostile: {h.n} prompts, refused {h.by_action['refuse']} ({self.hostile_refusal_rate:.1%}), "
                f"anchored {h.by_action['anchor']}, held {h.by_action['hold']}, passed unchanged "
                f"{h.by_action['allow']} (caught {self.hostile_caught_rate:.1%}); label mismatches "
                f"{len(h.mismatches)} (conflation policy: {self.conflation})")


EVAL_DIR = DATA / "guardrail_eval"
KINDS = ("benign", "hostile")


@dataclass
class Category(Tally):
    name: str
    kind: str        # benign | hostile
    expect: str      # the action the shipped policy must take
    blind: bool = False  # written by someone who had not read the rules, measured before changes for it
    period_claims: bool = False  # asks for period-authenticity claims, which the policy anchors (not refuses)

    def to_dict(self) -> dict[str, Any]:
        return {"category": self.name, "kind": self.kind, "expect": self.expect, "blind": self.blind,
                "period_claims": self.period_claims, "n": self.n,
                "by_action": self.by_action, "expected_rate": round(self.rate(self.expect), 4),
                "refused_rate": round(self.rate("refuse"), 4), "mismatches": self.mismatches}


def read_category(path: str | os.PathLike[str]) -> tuple[Category, list[str]]:
    """One evaluation file: ``category``, ``kind`` (benign/hostile), ``expect`` (an action), ``prompts``,
    optionally ``blind: true`` (a set written blind and measured before any change for it) and
    ``period_claims: true`` (a hostile set of period-authenticity claims: its writer expects a refusal, the
    shipped policy anchors them, ``periods.conflation: anchor``; reported apart, the label kept)."""
    import yaml

    data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    for key in ("category", "kind", "expect", "prompts"):
        if not isinstance(data, dict) or key not in data:
            raise PromptSetError(f"{path}: missing {key!r}")
    if data["kind"] not in KINDS or data["expect"] not in ACTIONS:
        raise PromptSetError(f"{path}: kind must be one of {KINDS}, expect one of {ACTIONS}")
    prompts = data["prompts"]
    if not prompts or not all(isinstance(p, str) and p.strip() for p in prompts):
        raise PromptSetError(f"{path}: prompts must be a non-empty list of non-empty strings")
    for key in ("blind", "period_claims"):
        if not isinstance(data.get(key, False), bool):
            raise PromptSetError(f"{path}: {key} must be true or false")
    return Category(str(data["category"]), data["kind"], data["expect"], bool(data.get("blind", False)),
                    bool(data.get("period_claims", False))), prompts


def _run(name: str, rows: list[tuple[int, str, str]], policy: Policy, relabel: dict[str, str],
         roles: str = "clause", classifier: bool = True) -> SetResult:
    result = SetResult(name)
    for lineno, label, prompt in rows:
        expected = relabel.get(label, label)
        decision = check_prompt(prompt, policy, roles=roles, classifier=classifier)
        result.count(decision.action)
        if decision.action != expected:
            result.mismatches.append({"line": lineno, "prompt": prompt, "expected": expected,
                                      "got": decision.action, "reasons": list(decision.reasons)})
    return result


def evaluate(policy: Policy, benign: str | os.PathLike[str] = BENIGN,
             hostile: str | os.PathLike[str] | None = HOSTILE, eval_dir: str | os.PathLike[str] | None = EVAL_DIR,
             roles: str = "clause", classifier: bool = True, sets: Sequence[str] = ("*",)) -> GuardrailReport:
    """Run the earlier line sets and the category files in ``eval_dir`` whose name (without ``.yaml``)
    matches one of the glob patterns ``sets`` (default: every file) under ``policy``. Labels assume
    ``conflation: anchor``; under ``refuse`` anchored conflations are expected refused. ``roles="naive"``
    measures the baseline posture rule (:func:`governance.roles.attribute`); ``classifier=False`` the
    rules without the learned second opinion; ``benign=hostile=None`` only the category files (a new
    set measured on its own)."""
    relabel = {} if policy.periods.conflation == "anchor" else {"anchor": "refuse"}
    hostile_rows = read_prompt_set(hostile, None) if hostile is not None else []
    if policy.periods.conflation == "refuse":
        hostile_rows = [(n, "refuse" if lab == "hold" else lab, p) for n, lab, p in hostile_rows]
    benign_rows = read_prompt_set(benign, "allow") if benign is not None else []
    report = GuardrailReport(_run("benign", benign_rows, policy, {}, roles, classifier),
                             _run("hostile", hostile_rows, policy, relabel, roles, classifier),
                             policy.periods.conflation)
    report.roles = roles
    report.eval_dir, report.sets = (str(eval_dir) if eval_dir else None), list(sets)
    files = sorted(Path(eval_dir).glob("*.yaml")) if eval_dir else []
    for path in [f for f in files if any(fnmatch.fnmatchcase(f.stem, s) for s in sets)]:
        cat, prompts = read_category(path)
        cat.expect = relabel.get(cat.expect, cat.expect)
        total = report.benign if cat.kind == "benign" else report.hostile
        for n, prompt in enumerate(prompts):
            action = check_prompt(prompt, policy, roles=roles, classifier=classifier).action
            cat.count(action)
            total.count(action)
            if action != cat.expect:
                miss = {"line": f"{path.name}#{n}", "prompt": prompt, "expected": cat.expect, "got": action}
                cat.mismatches.append(miss)
                total.mismatches.append(miss)
        report.categories.append(cat)
    return report


def table(report: GuardrailReport) -> str:
    """The per-category rates as a plain-text table."""
    lines = [f"{'category':44} {'kind':7} {'N':>4} {'expect':>6} {'as expected':>11} {'refused':>8}"]
    for c in report.categories:
        lines.append(f"{c.name[:44]:44} {c.kind:7} {c.n:4d} {c.expect:>6} {c.rate(c.expect):11.1%} {c.rate('refuse'):8.1%}")
    lines.append(report.summary())
    lines.append(report.targets_line())
    return "\n".join(lines)


def record_guardrail_eval(ledger: Ledger, report: GuardrailReport) -> Entry:
    """Enter a measurement so the reviewer's report can show the rates the policy achieved."""
    return ledger.append("guardrail_eval", report.to_dict())
