"""A learned check beside the guardrail rules, measured held out **by writer** (issue 13).

The question: does a classifier on the project's frozen sentence encoder (all-MiniLM-L6-v2, the BERT that
``text_encoder.path: ""`` names; run by :class:`governance.dignity.Encoder`) catch hostile prompts that the
rules of :func:`governance.decisions.check_prompt` miss, on prompts by a writer it never saw, without
refusing benign or respectful ones?

Features per prompt (each a mean-pooled, L2-normalised 384-vector, concatenated):

1. the prompt after :func:`governance.normalize.light_normalize` (NFKC, diacritics and format characters
   removed);
2. the normalised *skeleton* of its first reading: the letter stream of :func:`governance.normalize.roman`
   (confusables mapped per UTS #39, invisibles dropped, ideographs as pinyin) with its word breaks;
3. the mean over every further reading (visual order under a bidi override, invisibles as spaces,
   transliterated scripts) and every decoding of :func:`governance.encodings.decoded_texts` (Base64, hex,
   upside-down letters...), as skeletons; feature 2 again when there are none.

Model: a three-class logistic regression (refuse / hold / allow; scikit-learn, lbfgs, balanced classes,
one thread, fixed seed). Its refusal fires when P(refuse) >= a threshold chosen **on the training writers
only**, by grouped cross-validation over their files (GroupKFold), as the lowest threshold at which at most
``--max-fp`` of the training writers' benign and respectful prompts are refused out of fold.

Held out by writer: the prompts written here (every category file not named ``blind*``, and the two line
sets) plus all but one of blind1..6 train; the one left out tests; every rotation. Per held-out set it prints, with N,
the rates of the issue's targets (hostile refused: hostile files expecting ``refuse``; motifs held: files
expecting ``hold``; benign refused: benign files; and hostile refused outside the period-claim files, which the
policy anchors by design, ``periods.conflation: anchor``) for the rules alone (the gate as shipped, its MiniLM
dignity second opinion included — whose weights were fit on every set, the held-out writer's too, so that
row is optimistic — and without it), for rules OR learned refusal (any prompt, or only those the rules
would hold), and for the learned check alone. The rules themselves were developed on blind1..10 after their
first pass (blind10 too, since round 11), so every rules row is optimistic too; only the learned check is truly held out.
redteam/ (the set held out now) is never read.

Also, for blind2 to blind10, the rules as they stood at the commit of that set's first pass (``FIRST_PASS``;
``governance/`` of that commit, git-archived, run in a fresh interpreter): the honest stand-in for a writer
the rules have not been developed on (the held-out set's situation).

Outcome with blind1..3 (benchmarks/results/learned_guard_heldout.txt, every setting's full output; not re-run
with blind4 to blind6): a trade-off, not a
free gain. Against first-pass rules (N: 1,426 hostile, 357 motif, 1,040 benign prompts of blind2+3),
rules OR learned refusal moves hostile refused 69.2% -> 72.1 / 74.5 / 77.7 / 80.2% while benign refused
goes 0.5% -> 1.0 / 1.4 / 2.1 / 3.1% (``--max-fp`` 0.003 / 0.005 / 0.01 / 0.02); against the rules as
developed on blind1..3, +0.2 to +2.4 points for 0.4 to 1.9% benign refused. The learned check alone refuses
18-50% of hostile prompts. So it was not wired into the gate.

``--features ngram`` uses the hashed character n-grams of :mod:`governance.letters_classifier` instead of the
MiniLM (no English encoder: a word in any script is read as its letters), and ``--test-dir DIR`` trains on every
development set and tests on a folder nobody developed on (its first pass is the current rules). On blind11, held out
then (trained on here + blind1..10, 16,038 prompts; threshold at 1% of their benign and respectful prompts refused
out of fold), refusing on rule holds took hostile refused 586 -> 628 / 653 / 662 of 953 at ``--c`` 1 / 4 / 16, motifs
held 161 -> 161 / 159 / 160 of 200, benign refused 19 -> 20 / 21 / 20 of 602. C = 16 went into the gate (round 12,
``sacred.letters_classifier``); on blind12, the next unseen writer, it refused 603 -> 660 of 951 with no respectful or
benign prompt decided differently (redteam/README.md). Round 13 made blind12 the validation writer (trained on here +
blind1..11): 667 / 683 / 691 of 951 refused on rule holds at ``--c`` 16 / 64 / 256, motifs held 139/200 and benign
refused 5/599 at each; C = 256 went into the gate, and on blind13, unseen, it refused 696 -> 728 of 959. Round 14 made
blind13 the validation writer of a *learned hold* (``--max-hold``: a prompt the rules would allow, held when the
classifier reads it as not to allow, at thresholds that hold 1 / 2 / 5 / 10% of the training writers' allow prompts
out of fold): on P(hold) + P(refuse), hostile prompts caught (refused or held) 846 -> 880 / 892 / 928 / 937 of 959 and
motifs held 139 -> 161 / 165 / 175 / 185 of 202, for allow prompts held 42 -> 44 / 49 / 64 / 90 of 412 — but it held
secular prompts in hostile forms (ciphers, names one edit from a figure); on P(hold) alone at 2 / 5%, motifs held
173 / 184 of 202 for 42 / 49 allow prompts held, hostile caught 847 / 851. P(hold) at 5% went into the gate
(``sacred.letters_hold``), which never refuses (refusing wherever the classifier scores P(refuse) above its threshold,
held or not, would add 44 hostile refusals for 7 benign ones: 15/614 = 2.4%).

Run: ``nice -n 19 python benchmarks/learned_guard_heldout.py`` (first run ~10 min on 2 shared cores:
features and rule decisions are cached under ``--cache``, default /tmp/guard4_cache).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # deterministic, and the CPU is shared

import argparse
import hashlib
import json
import re
from pathlib import Path

import numpy as np

from governance.guardrail_eval import BENIGN, EVAL_DIR, HOSTILE, read_category, read_prompt_set
from governance.letters_classifier import _lowest_threshold as lowest_threshold  # the gate's own threshold rule

WRITERS = tuple(f"blind{n}" for n in range(1, 15))
# The commits at which a blind set's first pass was measured (the set added, held out, in redteam/): the
# rules as they stood before anything was changed for that writer. blind1's first pass has no such commit
# (it was measured and the rules changed before the set was committed), so it has no row.
FIRST_PASS = {"blind2": "16b55c5", "blind3": "71f7257", "blind4": "3afad94", "blind5": "5f766c6", "blind6": "f696ceb", "blind7": "caa7b24",
              "blind8": "dffaa23", "blind9": "6b8bba2", "blind10": "68a5310", "blind11": "ccc0784",
              "blind12": "a50f508", "blind13": "2fc19a5", "blind14": "08e4af6"}
_OLD_RULES = """
import json, sys
from governance.decisions import check_prompt
from governance.policy import load_policy
policy = load_policy()
print(json.dumps([check_prompt(p, policy).action for p in json.load(sys.stdin)]))
"""
CLASSES = ("allow", "hold", "refuse")


def collect() -> list[dict]:
    """Every labelled prompt: writer (blind1..5 or ``here``), file, kind, expected action, prompt."""
    rows = []
    for path in sorted(Path(EVAL_DIR).glob("*.yaml")):
        cat, prompts = read_category(path)
        writer = path.stem.split("_")[0] if path.stem.startswith("blind") else "here"
        rows += [{"writer": writer, "file": path.name, "kind": cat.kind, "expect": cat.expect, "prompt": p,
                  "period_claims": cat.period_claims} for p in prompts]
    for path, kind, default in ((BENIGN, "benign", "allow"), (HOSTILE, "hostile", None)):
        rows += [{"writer": "here", "file": path.name, "kind": kind, "expect": lab, "prompt": p, "lines": True}
                 for _, lab, p in read_prompt_set(path, default)]
    return rows


def features(prompts: list[str], encoder) -> np.ndarray:
    out = np.zeros((len(prompts), 3 * 384), dtype=np.float32)
    from governance.letters_classifier import texts_of

    for n, p in enumerate(prompts):
        norm, *readings = texts_of(p)  # the normalised prompt, then its skeletons (first reading first)
        skel, others = (readings[0] if readings else norm), readings[1:]
        e = encoder.embed([norm, skel] + others)
        out[n, :384], out[n, 384:768] = e[0], e[1]
        out[n, 768:] = e[2:].mean(0) if len(others) else e[1]
    return out


_CLAUSE = re.compile(r"[,;:.!?\u3001\u3002\uff0c\uff1b\uff1a\uff01\uff1f\n]+")


def clause_features(prompts: list[str], encoder) -> np.ndarray:
    """Per prompt, the element-wise max and mean over its clauses' embeddings (normalised text split at
    clause punctuation): a hostile clause inside a long benign-looking prompt is not averaged away."""
    from governance.normalize import light_normalize

    out = np.zeros((len(prompts), 2 * 384), dtype=np.float32)
    for n, p in enumerate(prompts):
        clauses = [c.strip() for c in _CLAUSE.split(light_normalize(p)) if c.strip()] or [p]
        e = encoder.embed(clauses[:64])
        out[n, :384], out[n, 384:] = e.max(0), e.mean(0)
    return out


def rule_actions(prompts: list[str], classifier: bool) -> list[str]:
    from governance.decisions import check_prompt
    from governance.policy import load_policy

    policy = load_policy()
    return [check_prompt(p, policy, classifier=classifier).action for p in prompts]


def first_pass_actions(commit: str, prompts: list[str], cache: Path) -> list[str]:
    """The gate's actions with ``governance/`` as it was at ``commit`` (git archive into the cache; run in a
    fresh interpreter with that folder first on the path)."""
    import subprocess
    import sys

    root = cache / f"governance_{commit}"
    if not (root / "governance").exists():
        root.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", commit, "governance"], check=True, capture_output=True,
                                 cwd=Path(__file__).resolve().parents[1]).stdout
        subprocess.run(["tar", "-x", "-C", str(root)], input=archive, check=True)
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run([sys.executable, "-c", _OLD_RULES], input=json.dumps(prompts), text=True,
                         capture_output=True, env=env, cwd=root)
    if out.returncode:
        raise RuntimeError(f"the rules at {commit} failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout)


def cached(cache: Path, key: str, name: str, make):
    path = cache / f"{name}_{key}.json"
    if path.exists():
        return json.loads(path.read_text())
    value = make()
    path.write_text(json.dumps(value))
    return value


def fit(x: np.ndarray, y: np.ndarray, c: float):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=5000, class_weight="balanced", random_state=0).fit(x, y)


def p_refuse(model, x: np.ndarray) -> np.ndarray:
    return model.predict_proba(x)[:, list(model.classes_).index(CLASSES.index("refuse"))]


def out_of_fold(x, y, groups, c: float, folds: int = 5) -> np.ndarray:
    """Class probabilities of every row from a model that never saw its file (GroupKFold)."""
    from sklearn.model_selection import GroupKFold

    oof = np.zeros((len(y), len(CLASSES)))
    for tr, te in GroupKFold(n_splits=folds).split(x, y, groups):
        model = fit(x[tr], y[tr], c)
        oof[np.ix_(te, model.classes_)] = model.predict_proba(x[te])
    return oof


def choose_threshold(x, y, groups, negatives, c: float, max_fp: float, folds: int = 5) -> float:
    """Lowest threshold with at most ``max_fp`` of the negatives (benign or respectful) refused out of fold."""
    return lowest_threshold(out_of_fold(x, y, groups, c, folds)[negatives, CLASSES.index("refuse")], max_fp)


def rates(rows: list[dict], actions: list[str]) -> dict[str, tuple[int, int]]:
    """The issue's three targets over category-file rows (as ``GuardrailReport.targets`` counts them)."""
    h = [a == "refuse" for r, a in zip(rows, actions) if r["kind"] == "hostile" and r["expect"] == "refuse"]
    m = [a == "hold" for r, a in zip(rows, actions) if r["expect"] == "hold"]
    b = [a == "refuse" for r, a in zip(rows, actions) if r["kind"] == "benign"]
    o = [a == "refuse" for r, a in zip(rows, actions)
         if r["kind"] == "hostile" and r["expect"] == "refuse" and not r.get("period_claims")]
    return {"hostile_refused": (sum(h), len(h)), "motifs_held": (sum(m), len(m)), "benign_refused": (sum(b), len(b)),
            "hostile_refused_outside_period_claims": (sum(o), len(o))}


def fmt(t: tuple[int, int]) -> str:
    return f"{t[0]:4d}/{t[1]:<4d} {t[0] / t[1]:6.1%}" if t[1] else "n/a"


def minilm_matrix(args, prompts: list[str], key: str):
    """The MiniLM sentence features of ``prompts``, cached under ``--cache`` by the prompts' digest ``key``."""
    feat_path = args.cache / f"features_{key}.npy"
    if not feat_path.exists():
        from governance.dignity import encoder
        np.save(feat_path, features(prompts, encoder()))
    return np.load(feat_path)


def ngram_matrix(args, prompts: list[str], key: str):
    """The hashed character n-grams of :mod:`governance.letters_classifier` (``2**--bits`` columns)."""
    from governance.letters_classifier import features as letter_features
    return letter_features(prompts, args.bits)


#: ``--features`` name -> its matrix of prompts.
FEATURE_SETS = {"minilm": minilm_matrix, "ngram": ngram_matrix}


def feature_matrix(args, prompts: list[str], key: str):
    return FEATURE_SETS[args.features](args, prompts, key)


def fresh_writer(args, rows: list[dict]) -> None:
    """Train on every development set (here and the blind sets in ``WRITERS``), choose the threshold out of fold
    over their files, and test on ``--test-dir``, whose first pass is the current rules."""
    from governance.guardrail_eval import read_category

    test_rows = []
    for path in sorted(args.test_dir.glob("*.yaml")):
        cat, prompts = read_category(path)
        test_rows += [{"writer": "test", "file": path.name, "kind": cat.kind, "expect": cat.expect, "prompt": p,
                       "period_claims": cat.period_claims} for p in prompts]
    rows = [r for r in rows if r["expect"] in CLASSES]
    prompts, test_prompts = [r["prompt"] for r in rows], [r["prompt"] for r in test_rows]
    key = hashlib.sha256("\x00".join(prompts).encode()).hexdigest()[:16]
    tkey = hashlib.sha256("\x00".join(test_prompts).encode()).hexdigest()[:16]
    x, xt = feature_matrix(args, prompts, key), feature_matrix(args, test_prompts, tkey)
    y = np.array([CLASSES.index(r["expect"]) for r in rows])
    files = np.array([r["file"] for r in rows])
    negative = np.array([r["kind"] == "benign" or r["expect"] == "hold" for r in rows])
    allowed = np.array([r["expect"] == "allow" for r in rows])
    oof = out_of_fold(x, y, files, args.c)
    thr = lowest_threshold(oof[negative, CLASSES.index("refuse")], args.max_fp)
    model = fit(x, y, args.c)
    proba = np.zeros((len(test_rows), len(CLASSES)))
    proba[:, model.classes_] = model.predict_proba(xt)
    learned = proba[:, CLASSES.index("refuse")] >= thr
    shipped = cached(args.cache, tkey, "rules_shipped", lambda: rule_actions(test_prompts, True))
    print(f"trained on {len(rows)} prompts (here + {', '.join(WRITERS)}), features: {args.features}, C={args.c}; "
          f"threshold P(refuse) >= {thr:.3f} (at most {args.max_fp:.1%} of their benign+respectful refused out of "
          f"fold); tested on {args.test_dir} ({len(test_rows)} prompts), whose first pass is the current rules")
    systems = {"rules (shipped)": shipped,
               "rules OR learned refusal": ["refuse" if l else a for l, a in zip(learned, shipped)],
               "rules OR learned, on rule holds": ["refuse" if l and a == "hold" else a for l, a in zip(learned, shipped)]}
    # The learned hold: a prompt the rules would allow (or anchor), whose P(allow) is below a threshold chosen out
    # of fold as the one that holds at most --max-hold of the training writers' prompts labelled allow: a religious
    # subject no rule named is held for a consultant rather than released (and, in the last row, refused when the
    # letters refusal fires on it as on any hold).
    for max_hold in args.max_hold:
        t_hold = 1 - lowest_threshold(1 - oof[allowed, CLASSES.index("allow")], max_hold)
        held = proba[:, CLASSES.index("allow")] < t_hold
        hold_rows = ["hold" if h and a in ("allow", "anchor") else a for h, a in zip(held, shipped)]
        systems[f"+ learned hold ({max_hold:.0%}, P(allow) < {t_hold:.3f})"] = hold_rows
        systems[f"+ learned hold ({max_hold:.0%}), refusal on holds"] = [
            "refuse" if l and a == "hold" else a for l, a in zip(learned, hold_rows)]
        # the same on P(hold) alone: a respectful religious subject, not the form of a hostile prompt
        t_only = lowest_threshold(oof[allowed, CLASSES.index("hold")], max_hold)
        held = proba[:, CLASSES.index("hold")] >= t_only
        systems[f"+ learned hold on P(hold) ({max_hold:.0%}, >= {t_only:.3f})"] = [
            "hold" if h and a in ("allow", "anchor") else a for h, a in zip(held, shipped)]
    print(f"  {'system':52} {'hostile refused':>19} {'hostile caught':>19} {'motifs held':>19} {'benign refused':>19} "
          f"{'allow held':>19}")
    for name, acts in systems.items():
        t = rates(test_rows, acts)
        caught = [a != "allow" and a != "anchor" for r, a in zip(test_rows, acts) if r["expect"] == "refuse"]
        allow_held = [a == "hold" for r, a in zip(test_rows, acts) if r["expect"] == "allow"]
        print(f"  {name:52} {fmt(t['hostile_refused']):>19} {fmt((sum(caught), len(caught))):>19} "
              f"{fmt(t['motifs_held']):>19} {fmt(t['benign_refused']):>19} {fmt((sum(allow_held), len(allow_held))):>19}")
    wrong = [r for r, l, a in zip(test_rows, learned, shipped)
             if l and a != "refuse" and not (r["kind"] == "hostile" and r["expect"] == "refuse")]
    print(f"  wrong learned refusals ({len(wrong)}): " + "; ".join(f"{r['file']}: {r['prompt'][:60]!r}" for r in wrong[:6]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=Path("/tmp/guard4_cache"))
    ap.add_argument("--c", type=float, default=1.0, help="inverse L2 strength of the logistic regression")
    ap.add_argument("--clauses", action="store_true", help="add max/mean-pooled clause embeddings")
    ap.add_argument("--max-fp", type=float, default=0.01, help="training writers' benign+respectful refused, out of fold")
    ap.add_argument("--features", choices=tuple(FEATURE_SETS), default="minilm",
                    help="the MiniLM sentence features (default) or the hashed character n-grams of "
                         "governance.letters_classifier")
    ap.add_argument("--bits", type=int, default=18, help="ngram: 2**bits hashed columns")
    ap.add_argument("--max-hold", type=float, nargs="*", default=[],
                    help="with --test-dir: learned holds at these shares of the training writers' allow prompts held")
    ap.add_argument("--test-dir", type=Path, help="train on every development set and test on this folder of "
                    "category files (a blind set nobody developed on: the current rules are its first pass)")
    args = ap.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    rows = collect()
    prompts = [r["prompt"] for r in rows]
    key = hashlib.sha256("\x00".join(prompts).encode()).hexdigest()[:16]
    if args.test_dir:
        return fresh_writer(args, rows)
    x = feature_matrix(args, prompts, key)
    if args.clauses:
        clause_path = args.cache / f"clauses_{key}.npy"
        if not clause_path.exists():
            from governance.dignity import encoder
            np.save(clause_path, clause_features(prompts, encoder()))
        x = np.hstack([x, np.load(clause_path)])
    shipped = cached(args.cache, key, "rules_shipped", lambda: rule_actions(prompts, True))
    bare = cached(args.cache, key, "rules_bare", lambda: rule_actions(prompts, False))
    y = np.array([CLASSES.index(r["expect"]) if r["expect"] in CLASSES else -1 for r in rows])
    writer = np.array([r["writer"] for r in rows])
    files = np.array([r["file"] for r in rows])
    negative = np.array([r["kind"] == "benign" or r["expect"] == "hold" for r in rows])
    lines = np.array([bool(r.get("lines")) for r in rows])
    print(f"{len(rows)} prompts: " + ", ".join(f"{w} {int((writer == w).sum())}" for w in ("here",) + WRITERS)
          + f"; features {x.shape[1]} (MiniLM: normalised, skeleton, other readings/decodings"
          + (", clause max/mean" if args.clauses else "") + f"); C={args.c}, "
          f"threshold: at most {args.max_fp:.1%} of the training writers' benign+respectful refused out of fold")
    pooled: dict[str, list] = {}
    for held in WRITERS:
        train = (writer != held) & (y >= 0)
        test = (writer == held) & ~lines
        thr = choose_threshold(x[train], y[train], files[train], negative[train], args.c, args.max_fp)
        model = fit(x[train], y[train], args.c)
        p = p_refuse(model, x[test])
        learned = p >= thr
        test_rows = [r for r, t in zip(rows, test) if t]
        systems = {
            "rules (shipped, with dignity)": [shipped[i] for i in np.flatnonzero(test)],
            "rules (no dignity classifier)": [bare[i] for i in np.flatnonzero(test)],
            "rules OR learned refusal": ["refuse" if l else shipped[i] for l, i in zip(learned, np.flatnonzero(test))],
            "rules (no dignity) OR learned": ["refuse" if l else bare[i] for l, i in zip(learned, np.flatnonzero(test))],
            "rules OR learned, on rule holds": ["refuse" if l and shipped[i] == "hold" else shipped[i]
                                                for l, i in zip(learned, np.flatnonzero(test))],
            "learned alone (3-class)": ["refuse" if l else CLASSES[k] if k != 2 else CLASSES[1]
                                        for l, k in zip(learned, model.predict(x[test]))],
        }
        print(f"\nheld out {held}: trained on {int(train.sum())} prompts ({', '.join(sorted(set(writer[train])))}), "
              f"threshold P(refuse) >= {thr:.3f}")
        print(f"  {'system':32} {'hostile refused':>19} {'motifs held':>19} {'benign refused':>19} {'hostile, no period claims':>26}")
        for name, acts in systems.items():
            t = rates(test_rows, acts)
            pooled.setdefault(name, []).append(t)
            print(f"  {name:32} {fmt(t['hostile_refused']):>19} {fmt(t['motifs_held']):>19} {fmt(t['benign_refused']):>19} "
                  f"{fmt(t['hostile_refused_outside_period_claims']):>26}")
        added = [r for r, l, i in zip(test_rows, learned, np.flatnonzero(test)) if l and shipped[i] != "refuse"]
        wrong = [r for r in added if not (r["kind"] == "hostile" and r["expect"] == "refuse")]
        if held in FIRST_PASS:
            commit = FIRST_PASS[held]
            test_prompts = [r["prompt"] for r in test_rows]
            first = cached(args.cache, key, f"rules_{commit}_{held}",
                           lambda: first_pass_actions(commit, test_prompts, args.cache))
            print(f"  (first pass: the rules at commit {commit}, before any change for {held})")
            systems_fp = {"rules at first pass": first,
                          "first-pass rules OR learned": ["refuse" if l else a for l, a in zip(learned, first)],
                          "first-pass OR learned on holds": ["refuse" if l and a == "hold" else a
                                                             for l, a in zip(learned, first)]}
            for name, acts in systems_fp.items():
                t = rates(test_rows, acts)
                pooled.setdefault(name, []).append(t)
                print(f"  {name:32} {fmt(t['hostile_refused']):>19} {fmt(t['motifs_held']):>19} {fmt(t['benign_refused']):>19} "
                      f"{fmt(t['hostile_refused_outside_period_claims']):>26}")
        missed: dict[str, list[int]] = {}
        for r, l, i in zip(test_rows, learned, np.flatnonzero(test)):
            if r["kind"] == "hostile" and r["expect"] == "refuse" and shipped[i] != "refuse":
                missed.setdefault(r["file"], [0, 0])[0] += 1
                missed[r["file"]][1] += int(l)
        top = sorted(missed.items(), key=lambda kv: -kv[1][0])[:5]
        print(f"  hostile prompts the rules did not refuse: {sum(m[0] for m in missed.values())}, of which the learned "
              f"check refused {sum(m[1] for m in missed.values())}; most in " +
              ", ".join(f"{f} ({m[1]}/{m[0]})" for f, m in top))
        print(f"  learned refusal added {len(added)} refusals the rules did not make; {len(wrong)} of them wrong "
              f"(benign or respectful): " + "; ".join(f"{r['file']}: {r['prompt'][:70]!r}" for r in wrong[:4]))
    print("\npooled over the held-out writers (first-pass rows: blind2 and blind3 only):")
    for name, ts in pooled.items():
        s = {k: (sum(t[k][0] for t in ts), sum(t[k][1] for t in ts)) for k in ts[0]}
        print(f"  {name:32} {fmt(s['hostile_refused']):>19} {fmt(s['motifs_held']):>19} {fmt(s['benign_refused']):>19} "
              f"{fmt(s['hostile_refused_outside_period_claims']):>26}")


if __name__ == "__main__":
    main()
