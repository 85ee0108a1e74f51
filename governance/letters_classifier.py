"""A learned second opinion on held prompts, in any script: character n-grams into a logistic regression.

Paper section 6.2, *spiritual dignity*. The rules (:mod:`governance.sacred`, :mod:`governance.roles`) refuse
the degradations someone listed, in the languages the lexicon has, and the MiniLM classifier of
:mod:`governance.dignity` reads English only. A fresh red-team writer gets most of its hostile prompts that
escape refusal *held*: a figure recognised, the act written in words no rule knows (redteam/README.md). This
classifier reads letters rather than words: character 1-4-grams within words (scikit-learn's
``HashingVectorizer``, ``2**N_BITS`` columns, L2-normalised) of the prompt as
:func:`governance.normalize.light_normalize` leaves it, of its roman skeleton (confusables per UTS #39,
ideographs as pinyin: :func:`governance.normalize.roman`) and of its other readings and decodings
(:func:`governance.normalize.readings`, :func:`governance.encodings.decoded_texts`), into a three-class
logistic regression (refuse / hold / allow) trained on every labelled set in ``data/guardrail_eval``
(written here and by the blind writers since used for development) and the two line sets.

Its refusal fires when P(refuse) >= a threshold chosen by grouped cross-validation over the sets' files
(every file scored by a model that never saw it) as the lowest at which at most ``MAX_FP`` of their benign
and respectful prompts are refused out of fold. It only ever turns a *hold* into a *refuse*
(``sacred.letters_classifier`` in the policy). Its *hold* reads the same model's second class: a prompt in which
no rule named a religious subject, whose P(hold) — a respectful religious subject — is at or above a second
threshold, chosen out of fold as the lowest at which at most ``MAX_HOLD`` of the prompts labelled allow are held,
is held for a consultant (``sacred.letters_hold``): a tradition, a site or a figure no lexicon lists fails closed.
The hold reads a prompt of several sentences sentence by sentence as well as whole, and takes the highest P(hold)
(:func:`segments`): in a long commission brief the one sentence that names a subject is otherwise diluted by the
boilerplate around it, which every class of long brief shares. Such prompts score higher than single sentences, so
they get their own hold threshold, chosen the same way on the prompts of several sentences labelled allow. (The
refusal reads the whole prompt: sentence by sentence, against a threshold chosen the same way, it refused 11 fewer
of the validation writer's hostile prompts; redteam/README.md, round 15.)
Weights, thresholds and the cross-validated rates are in ``data/letters_classifier.npz``, written by
``python -m governance.letters_classifier`` (deterministic: one thread, lbfgs from zero), which also refuses to
serve a model trained on other sets than those present.
What it buys a writer it never saw is measured by ``benchmarks/learned_guard_heldout.py --features ngram
--test-dir DIR`` (figures in redteam/README.md).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

DATA = Path(__file__).resolve().parent / "data"
MODEL_FILE = DATA / "letters_classifier.npz"
CLASSES = ("allow", "hold", "refuse")
N_BITS = 18          # 2**18 hashed n-gram columns: fewer collide more (measured in the benchmark)
NGRAMS = (1, 4)      # character n-gram lengths, within words
C = 256.0            # inverse L2 strength of the logistic regression (chosen on blind12, redteam/README.md)
MAX_FP = 0.01        # the training sets' benign and respectful prompts refused out of fold, at most
MAX_HOLD = 0.05      # the training sets' prompts labelled allow held out of fold, at most (chosen on blind13,
                     # redteam/README.md)


# A sentence ends at . ! ? ; followed by a space (so not inside "3.5"), at a line break, or right after an
# ideographic full stop, exclamation or question mark or semicolon (CJK runs on without spaces).
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|(?<=[\u3002\uff01\uff1f\uff1b])\s*|\n+")


class LettersModelError(RuntimeError):
    """The classifier file cannot be used; says which and why."""


def sentences(prompt: str) -> list[str]:
    """The prompt's sentences, stripped, in order (one for a prompt without a sentence break)."""
    return [s.strip() for s in _SENTENCE_END.split(prompt) if s.strip()] or [prompt]


def segments(prompt: str) -> list[str]:
    """What is scored: the whole prompt, then each of its sentences when it has several."""
    parts = sentences(prompt)
    return [prompt] if len(parts) == 1 else [prompt, *parts]


def texts_of(prompt: str) -> list[str]:
    """What the classifier reads of ``prompt``: the normalised prompt, the roman skeleton of its first
    reading (a space at each word break) and those of its other readings and decodings."""
    from governance.encodings import decoded_texts
    from governance.normalize import _decode, light_normalize, readings

    rs = readings(prompt)
    skeletons = [_skeleton(r) for r in rs]
    for _, decoded in decoded_texts(prompt, rs[0]):
        if decoded.strip() and decoded != prompt:
            skeletons.append(_skeleton(_decode(decoded)))
    return [light_normalize(prompt), *(s for s in skeletons if s.strip())]


def _skeleton(chars) -> str:
    from governance.normalize import roman

    r = roman(chars)
    out, last = [], None
    for ch, word in zip(r.letters, r.word):
        if last is not None and word != last:
            out.append(" ")
        out.append(ch)
        last = word
    return "".join(out)


def features(prompts: list[str], n_bits: int | None = None):
    """The hashed character n-grams of each prompt's texts (one sparse row per prompt); ``2**n_bits``
    columns (default ``N_BITS``)."""
    from sklearn.feature_extraction.text import HashingVectorizer

    vectorizer = HashingVectorizer(analyzer="char_wb", ngram_range=NGRAMS, n_features=2 ** (n_bits or N_BITS),
                                   alternate_sign=False, norm="l2")
    return vectorizer.transform([" | ".join(texts_of(p)).lower() for p in prompts])


def training_rows(eval_dir: Path | None = None) -> list[tuple[str, str, str, str]]:
    """``(file, kind, expected action, prompt)`` of every labelled prompt: the category files of ``eval_dir``
    (default the shipped ones) and the two line sets."""
    from governance.guardrail_eval import BENIGN, EVAL_DIR, HOSTILE, read_category, read_prompt_set

    rows = []
    for path in sorted(Path(eval_dir or EVAL_DIR).glob("*.yaml")):
        cat, prompts = read_category(path)
        rows += [(path.name, cat.kind, cat.expect, p) for p in prompts]
    for path, kind, default in ((BENIGN, "benign", "allow"), (HOSTILE, "hostile", None)):
        rows += [(path.name, kind, label, p) for _, label, p in read_prompt_set(path, default)]
    return [r for r in rows if r[2] in CLASSES]


def training_digest(rows: list[tuple[str, str, str, str]]) -> str:
    """SHA-256 over the labelled prompts a model was trained on (files, labels and texts, in order)."""
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest()


def _fit(x, y: np.ndarray):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, max_iter=5000, class_weight="balanced", random_state=0).fit(x, y)


def _proba(model, x) -> np.ndarray:
    """P(allow), P(hold), P(refuse) of each row, in ``CLASSES`` order (a fold may lack a class)."""
    out = np.zeros((x.shape[0], len(CLASSES)))
    out[:, model.classes_] = model.predict_proba(x)
    return out


def _lowest_threshold(scores: np.ndarray, share: float) -> float:
    """The lowest threshold at which at most ``share`` of ``scores`` are at or above it."""
    s = np.sort(scores)
    return float(min(0.999, s[len(s) - 1 - int(np.floor(share * len(s)))] + 1e-4))


def train(eval_dir: Path | None = None, out: Path = MODEL_FILE, folds: int = 5) -> dict[str, Any]:
    """Fit on every labelled set, choose the thresholds by grouped cross-validation over the files, write
    ``out``; returns the record (thresholds, cross-validated rates, training digest)."""
    import sklearn.linear_model  # noqa: F401 -- loaded before the limit: it only reaches the thread pools
    import sklearn.model_selection  # noqa: F401 -- already loaded (BLAS, and scikit-learn's OpenMP runtime)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # one thread: the same sums in the same order, so the same weights anywhere
        return _train(eval_dir, out, folds)


def _train(eval_dir: Path | None, out: Path, folds: int) -> dict[str, Any]:
    from sklearn.model_selection import GroupKFold

    rows = training_rows(eval_dir)
    parts = [segments(p) for *_, p in rows]  # the whole prompt first, then its sentences when several
    owner = np.repeat(np.arange(len(rows)), [len(s) for s in parts])
    x_parts = features([s for ss in parts for s in ss])
    x = x_parts[np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])]  # the whole prompts: what is fitted
    several = np.array([len(s) > 1 for s in parts])
    y = np.array([CLASSES.index(e) for _, _, e, _ in rows])
    files = np.array([f for f, *_ in rows])
    negative = np.array([k == "benign" or e == "hold" for _, k, e, _ in rows])
    hostile = np.array([k == "hostile" and e == "refuse" for _, k, e, _ in rows])
    allowed, respectful = y == CLASSES.index("allow"), y == CLASSES.index("hold")
    p_refuse, p_hold = np.zeros(len(rows)), np.zeros(len(rows))
    for tr, te in GroupKFold(n_splits=folds).split(x, y, files):
        model = _fit(x[tr], y[tr])
        p_refuse[te] = _proba(model, x[te])[:, CLASSES.index("refuse")]  # the whole prompt
        scored = np.flatnonzero(np.isin(owner, te))  # every segment of the held-out files' prompts
        np.maximum.at(p_hold, owner[scored], _proba(model, x_parts[scored])[:, CLASSES.index("hold")])
    threshold = _lowest_threshold(p_refuse[negative], MAX_FP)
    hold_threshold = _lowest_threshold(p_hold[allowed & ~several], MAX_HOLD)
    # a set without prompts of several sentences to choose on: they get the single sentences' threshold
    hold_threshold_several = _lowest_threshold(p_hold[allowed & several], MAX_HOLD) \
        if (allowed & several).any() else hold_threshold
    refuses = p_refuse >= threshold
    holds = p_hold >= np.where(several, hold_threshold_several, hold_threshold)
    model = _fit(x, y)
    meta = {"features": f"character {NGRAMS[0]}-{NGRAMS[1]}-grams within words, hashed into 2**{N_BITS} columns, "
                        "L2-normalised (scikit-learn HashingVectorizer, char_wb), of the normalised prompt, its "
                        "skeleton and its other readings and decodings",
            "classifier": f"logistic regression, 3 classes {list(CLASSES)}, C={C}, balanced classes, lbfgs",
            "scoring": "P(refuse) of the whole prompt; P(hold) the highest over the whole prompt and, when it has "
                       "several, its sentences, against a threshold of their own (hold_threshold_several)",
            "threshold": round(threshold, 4), "hold_threshold": round(hold_threshold, 4),
            "hold_threshold_several": round(hold_threshold_several, 4),
            "n_bits": N_BITS, "ngrams": list(NGRAMS),
            "training_digest": training_digest(rows),
            "cv": {"method": f"GroupKFold over files ({folds} folds)", "files": len(set(files)),
                   "max_fp": MAX_FP, "n_hostile": int(hostile.sum()), "n_benign_or_respectful": int(negative.sum()),
                   "n_several_sentences": int(several.sum()),
                   "hostile_refused": round(float(refuses[hostile].mean()), 4),
                   "benign_or_respectful_refused": round(float(refuses[negative].mean()), 4),
                   "max_hold": MAX_HOLD, "n_allow": int(allowed.sum()), "n_respectful": int(respectful.sum()),
                   "allow_held": round(float(holds[allowed].mean()), 4),
                   "respectful_held": round(float(holds[respectful].mean()), 4),
                   "hostile_held": round(float(holds[hostile].mean()), 4)}}
    np.savez_compressed(out, coef=model.coef_.astype(np.float32), intercept=model.intercept_.astype(np.float32),
                        classes=np.asarray(model.classes_), meta=np.asarray(json.dumps(meta)))
    load_classifier.cache_clear()
    probabilities.cache_clear()
    return meta


@functools.lru_cache(maxsize=2)
def load_classifier(path: str | Path = MODEL_FILE) -> dict[str, Any]:
    """The shipped weights and their record (threshold, cross-validated rates, training digest)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            model = {"coef": z["coef"], "intercept": z["intercept"], "classes": z["classes"],
                     **json.loads(str(z["meta"]))}
    except (OSError, ValueError, KeyError) as exc:
        raise LettersModelError(f"{path}: cannot read the letters classifier ({exc}); retrain: "
                                "python -m governance.letters_classifier") from None
    if model["coef"].shape != (len(CLASSES), 2 ** model["n_bits"]) or model["n_bits"] != N_BITS \
            or tuple(model["ngrams"]) != NGRAMS:
        raise LettersModelError(f"{path}: weights of shape {model['coef'].shape} for {model['n_bits']} bits, "
                                f"n-grams {model['ngrams']}; this code reads {N_BITS} bits, n-grams {list(NGRAMS)} "
                                "(retrain: python -m governance.letters_classifier)")
    if "hold_threshold" not in model:
        raise LettersModelError(f"{path}: no hold threshold (trained before sacred.letters_hold existed); retrain: "
                                "python -m governance.letters_classifier")
    if "hold_threshold_several" not in model:
        raise LettersModelError(f"{path}: no hold threshold for prompts of several sentences (trained before they "
                                "were read sentence by sentence); retrain: python -m governance.letters_classifier")
    return model


@functools.lru_cache(maxsize=4096)
def probabilities(text: str, path: str | Path = MODEL_FILE) -> tuple[float, float, float]:
    """P(allow), P(hold), P(refuse) of ``text`` (the softmax of the three classes' scores)."""
    model = load_classifier(path)
    z = features([text]) @ model["coef"].T.astype(np.float64) + model["intercept"]
    z = np.exp(z[0] - z[0].max())
    p = dict(zip((int(c) for c in model["classes"]), z / z.sum()))
    return tuple(float(p.get(k, 0.0)) for k in range(len(CLASSES)))


def score(text: str, path: str | Path = MODEL_FILE) -> float:
    """P(refuse) of ``text``, the whole prompt."""
    return probabilities(text, path)[CLASSES.index("refuse")]


def hold_reading(text: str, path: str | Path = MODEL_FILE) -> tuple[float, str]:
    """The highest P(hold) over ``text``'s segments (:func:`segments`: that it is, or has, a respectful religious
    subject to be held for a consultant) and the segment that has it (the whole prompt on a tie)."""
    k = CLASSES.index("hold")
    return max((probabilities(s, path)[k], -i, s) for i, s in enumerate(segments(text)))[::2]


def hold_score(text: str, path: str | Path = MODEL_FILE) -> float:
    """P(hold) of ``text``: the highest over its segments."""
    return hold_reading(text, path)[0]


def hold_threshold(text: str, path: str | Path = MODEL_FILE) -> float:
    """The hold threshold that applies to ``text``: that of single sentences, or that chosen on prompts of
    several sentences."""
    model = load_classifier(path)
    return model["hold_threshold"] if len(segments(text)) == 1 else model["hold_threshold_several"]


if __name__ == "__main__":
    m = train()
    cv = m["cv"]
    print(f"threshold {m['threshold']}; grouped CV over {cv['files']} files: hostile refused "
          f"{cv['hostile_refused']:.1%} of {cv['n_hostile']}, benign or respectful refused "
          f"{cv['benign_or_respectful_refused']:.1%} of {cv['n_benign_or_respectful']}")
    print(f"prompts of several sentences ({cv['n_several_sentences']}): hold threshold {m['hold_threshold_several']}")
    print(f"hold threshold {m['hold_threshold']} (P(hold)); out of fold it holds "
          f"{cv['allow_held']:.1%} of {cv['n_allow']} prompts labelled allow, {cv['respectful_held']:.1%} of "
          f"{cv['n_respectful']} respectful ones and {cv['hostile_held']:.1%} of the hostile ones")
