"""Fine-grained text instructions: the study's analogue of the paper's Figure 13 (section 3.2).

The paper applies "three sets of progressive instruction sequences (basic element replacement,
attribute detail fine-tuning, complex scene extension)" over 7 rounds and plots (a) the style similarity
between adjacent rounds, with 0.70 as the threshold of "severe style deviation", and (b) the instruction
response accuracy, with 0.80 as the threshold of "executed with high quality". It defines neither
measure; this module's definitions:

- A sequence (``inkgen/data/instructions.yaml``) is a starting prompt and one edit per round; round
  ``r``'s prompt is round ``r-1``'s prompt edited by step ``r`` (:func:`round_prompts`).
- Each round paints ``samples`` images with the *same* sampling seeds, so image ``i`` of round ``r`` and
  image ``i`` of round ``r-1`` differ only by what the edited text changed.
- **Style similarity** of round ``r`` = mean over ``i`` of the cosine between the image embeddings of
  image ``i`` in rounds ``r`` and ``r-1``: the project's CLIP image encoder (``style_embedding: clip``) or
  the curation classifier's pooled features (``classifier``). A cosine of embeddings measures how much
  the picture as a whole stayed the same, which is what "style consistency" can mean here; it is not a
  human judgement of style.
- **Instruction response accuracy** of round ``r`` = share of its images in which the curation
  classifier (paper eq. 1) sees every intended attribute of the round (primary category and painting
  type, inherited from earlier rounds unless the step changes them). The classifier is a judge with its
  own error rate (its held-out accuracy is reported beside the curves).

Both come with bootstrap 95% intervals over the round's images (curves: the first training seed's model).

**Figure 13's ordering** (the paper: element replacement keeps style and responds better than scene
extension, 0.71 vs 0.48 and 0.80 vs 0.52) is judged across training seeds: every seed's model runs every
sequence, and per seed and sample the two measures are averaged over the last two rounds (the paper's
rounds 6-7); the claims of ``stage: instructions`` in the paper data file compare the sequences on these
seeds x samples tables (paired by sample: the same sampling seeds) with the seed-level interval of
:mod:`inkgen.metrics.seeds` and Holm across the two claims (:func:`ordering_measures`). The CLIP style
embedding is the independent judge's (``models/clip_judge.pt``), not the guide's.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
import yaml

from inkgen.metrics.claims import Seeded
from inkgen.metrics.stats import bootstrap_ci

DATA_FILE = "instructions.yaml"
ATTRIBUTES = ("primary", "painting_type")  # the curation classifier's heads


class InstructionError(ValueError):
    """A malformed sequence file or an edit that does not apply; the message names the sequence and step."""


@dataclass(frozen=True)
class Step:
    instruction: str
    replace: tuple[tuple[str, str], ...]
    append: str
    expect: Mapping[str, str]


@dataclass(frozen=True)
class InstructionSequence:
    name: str
    label: str
    prompt: str
    expect: Mapping[str, str]
    steps: tuple[Step, ...]


def _expect(raw: Any, where: str, classes: Mapping[str, Sequence[str]] | None) -> dict[str, str]:
    raw = raw or {}
    if not isinstance(raw, Mapping):
        raise InstructionError(f"{where}: expect must be a mapping of {ATTRIBUTES} to labels")
    for key, value in raw.items():
        if key not in ATTRIBUTES:
            raise InstructionError(f"{where}: unknown attribute {key!r} (known: {list(ATTRIBUTES)})")
        if classes is not None and value not in classes[key]:
            raise InstructionError(f"{where}: {key} {value!r} is not a class of the judge ({list(classes[key])})")
    return dict(raw)


def load_sequences(path: str | Path | None = None, classes: Mapping[str, Sequence[str]] | None = None
                   ) -> dict[str, InstructionSequence]:
    """Parse and check the sequence file (the packaged one unless ``path``); ``classes``: the judge's labels
    per attribute, to refuse an intended attribute the classifier cannot see."""
    if path:
        text, where = Path(path).read_text(encoding="utf-8"), str(path)
    else:
        text, where = resources.files("inkgen.data").joinpath(DATA_FILE).read_text(encoding="utf-8"), DATA_FILE
    raw = yaml.safe_load(text)
    if not isinstance(raw, Mapping) or not isinstance(raw.get("sequences"), Mapping) or not raw["sequences"]:
        raise InstructionError(f"{where}: needs a non-empty mapping `sequences`")
    out = {}
    for name, spec in raw["sequences"].items():
        at = f"{where}: sequence {name!r}"
        try:
            start, steps_raw = spec["start"], spec["steps"]
            start_expect = _expect(start.get("expect"), f"{at} start", classes)
            prompt = str(start["prompt"])
        except (KeyError, TypeError, AttributeError) as exc:
            raise InstructionError(f"{at}: needs start.prompt, start.expect and steps ({exc})") from exc
        if set(start_expect) != set(ATTRIBUTES):
            raise InstructionError(f"{at} start: expect must name every attribute {list(ATTRIBUTES)}")
        steps = []
        for i, s in enumerate(steps_raw or (), 1):
            sat = f"{at} step {i}"
            if not isinstance(s, Mapping) or not s.get("instruction"):
                raise InstructionError(f"{sat}: needs an instruction text")
            pairs = s.get("replace") or []
            if not all(isinstance(p, (list, tuple)) and len(p) == 2 for p in pairs):
                raise InstructionError(f"{sat}: replace must be a list of [old, new] pairs")
            if not pairs and not s.get("append"):
                raise InstructionError(f"{sat}: edits nothing (give replace or append)")
            steps.append(Step(str(s["instruction"]), tuple((str(a), str(b)) for a, b in pairs),
                              str(s.get("append") or ""), _expect(s.get("expect"), sat, classes)))
        out[name] = InstructionSequence(name, str(spec.get("label", name)), prompt, start_expect, tuple(steps))
    return out


def apply_step(prompt: str, step: Step, where: str = "") -> str:
    """Round ``r``'s prompt from round ``r-1``'s: each ``old`` replaced once (it must be there), then the
    appended text."""
    for old, new in step.replace:
        if old not in prompt:
            raise InstructionError(f"{where}: {step.instruction!r}: {old!r} does not occur in {prompt!r}")
        prompt = prompt.replace(old, new, 1)
    return f"{prompt} {step.append}".strip() if step.append else prompt


def round_prompts(seq: InstructionSequence, rounds: int) -> pd.DataFrame:
    """Rounds 0..``rounds``: instruction, prompt and the intended attributes of each."""
    if rounds > len(seq.steps):
        raise InstructionError(f"sequence {seq.name!r} has {len(seq.steps)} steps, {rounds} rounds requested")
    rows = [{"round": 0, "instruction": "(starting prompt)", "prompt": seq.prompt, **seq.expect}]
    prompt, expect = seq.prompt, dict(seq.expect)
    for r, step in enumerate(seq.steps[:rounds], 1):
        prompt = apply_step(prompt, step, f"sequence {seq.name!r} step {r}")
        expect = {**expect, **step.expect}
        rows.append({"round": r, "instruction": step.instruction, "prompt": prompt, **expect})
    return pd.DataFrame(rows)


def style_embeddings(images: torch.Tensor, kind: str, *, clip=None, classifier=None, batch_size: int = 64
                     ) -> np.ndarray:
    """(N, D) unit-length image embeddings: CLIP's image encoder or the classifier's pooled features."""
    if kind == "clip":
        from inkgen.metrics.distribution import clip_image_features  # torchmetrics' Inception: only these measures

        feats = np.asarray(clip_image_features(clip, images, batch_size), dtype=np.float64)
    elif kind == "classifier":
        # torchmetrics and torchvision's models only for these measures (the plan and tables need neither)
        from inkgen.metrics.distribution import to_uint8
        from inkgen.models.classifier import embed

        feats = embed(classifier, list(to_uint8(images).permute(0, 2, 3, 1).numpy()), batch_size=batch_size)
        feats = np.asarray(feats, dtype=np.float64)
    else:
        raise InstructionError(f"style_embedding must be 'clip' or 'classifier', got {kind!r}")
    return feats / np.clip(np.linalg.norm(feats, axis=1, keepdims=True), 1e-12, None)


def judge_rounds(classifier, images: Sequence[torch.Tensor], plan: pd.DataFrame) -> list[pd.DataFrame]:
    """Per round, per image: the classifier's labels and whether each intended attribute was seen."""
    # torchmetrics and torchvision's models only for these measures (the plan and tables need neither)
    from inkgen.metrics.distribution import to_uint8
    from inkgen.models.classifier import predict

    out = []
    for (_, row), imgs in zip(plan.iterrows(), images):
        judged = pd.DataFrame(predict(classifier, list(to_uint8(imgs).permute(0, 2, 3, 1).numpy())))
        for a in ATTRIBUTES:
            judged[f"{a}_ok"] = judged[a] == row[a]
        judged["all_ok"] = judged[[f"{a}_ok" for a in ATTRIBUTES]].all(axis=1)
        out.append(judged)
    return out


def run_sequence(generator, seq: InstructionSequence, rounds: int, samples: int, *, gen_kwargs: Mapping[str, Any],
                 classifier, clip, style_embedding: str, confidence: float, n_resamples: int, seed: int,
                 batch_size: int = 64) -> tuple[pd.DataFrame, list[torch.Tensor]]:
    """One sequence: per round, the prompt, style similarity to the previous round and response accuracy
    (each ``value, low, high``), and the images (``samples`` per round, same seeds every round)."""
    plan = round_prompts(seq, rounds)
    kwargs = {**gen_kwargs, "count": samples}
    images = [generator.generate_tensors([p], **kwargs) for p in plan["prompt"]]
    emb = [style_embeddings(x, style_embedding, clip=clip, classifier=classifier, batch_size=batch_size)
           for x in images]
    judged = judge_rounds(classifier, images, plan)
    ci = dict(confidence=confidence, n_resamples=n_resamples, seed=seed, method="percentile")
    rows = []
    for r, row in plan.iterrows():
        out = {"sequence": seq.name, **row.to_dict(), "n": samples}
        if r > 0:
            cos = (emb[r] * emb[r - 1]).sum(axis=1)  # paired: sample i of round r vs sample i of round r-1
            sim = bootstrap_ci(cos, np.mean, **ci)
            out.update(style_similarity=sim.mean, style_low=sim.low, style_high=sim.high, style_values=list(cos))
        else:
            out.update(style_similarity=np.nan, style_low=np.nan, style_high=np.nan, style_values=[])
        ok = judged[r]["all_ok"].to_numpy(float)
        acc = bootstrap_ci(ok, np.mean, **ci)
        out.update(response_accuracy=acc.mean, accuracy_low=acc.low, accuracy_high=acc.high, accuracy_values=list(ok),
                   **{f"{a}_seen": float(judged[r][f"{a}_ok"].mean()) for a in ATTRIBUTES})
        rows.append(out)
    return pd.DataFrame(rows), images


def ordering_measures(tables: Sequence[pd.DataFrame], seeds: Sequence[int], rounds: int) -> dict[str, dict]:
    """Per sequence, ``style_similarity`` and ``instruction_response`` as seeds x samples
    :class:`~inkgen.metrics.claims.Seeded` tables: each sample's values averaged over the last two rounds
    (``tables``: one :func:`run_sequence` table of all sequences per seed, in ``seeds`` order)."""
    late = [r for r in (rounds - 1, rounds) if r >= 1]
    out: dict[str, dict] = {}
    for name in tables[0]["sequence"].unique():
        per_seed = {"style_similarity": [], "instruction_response": []}
        for t in tables:
            rows = t[(t["sequence"] == name) & t["round"].isin(late)]
            per_seed["style_similarity"].append(np.mean(np.stack([np.asarray(v, float) for v in rows["style_values"]]),
                                                        axis=0))
            per_seed["instruction_response"].append(
                np.mean(np.stack([np.asarray(v, float) for v in rows["accuracy_values"]]), axis=0))
        out[str(name)] = {k: Seeded(tuple(int(s) for s in seeds), np.stack(v)) for k, v in per_seed.items()}
    return out


def against_threshold(low: float, high: float, threshold: float) -> str:
    """Where a 95% interval lies relative to one of the paper's thresholds."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return "no interval"
    return "above" if low > threshold else "below" if high < threshold else "straddles"


def compare_with_paper(table: pd.DataFrame, figure13: Mapping[str, Any], *, confidence: float, n_resamples: int,
                       seed: int) -> pd.DataFrame:
    """The paper's reported Figure 13 numbers (style similarity of rounds 6-7, response accuracy of round 6)
    beside ours (the rounds' per-image values pooled, with a bootstrap interval), and where our interval
    lies against the paper's thresholds."""
    style_t, resp_t = figure13["style_similarity_threshold"], figure13["instruction_response_threshold"]
    rows = []
    for key, (col, rnds, thr) in {
            "style_similarity_rounds_6_7": ("style_values", (6, 7), style_t),
            "instruction_response_round_6": ("accuracy_values", (6,), resp_t),
    }.items():
        for seq, reported in figure13["reported"].get(key, {}).items():
            part = table[(table["sequence"] == seq) & table["round"].isin(rnds)]
            row = {"quantity": key, "sequence": seq, "reported by the paper": reported, "paper's threshold": thr}
            if len(part) < len(rnds):
                rows.append({**row, "ours": "not measured", "our interval vs threshold":
                             f"not measured (fewer than {max(rnds)} rounds)"})
                continue
            est = bootstrap_ci(np.concatenate([np.asarray(v, float) for v in part[col]]), np.mean,
                               confidence=confidence, n_resamples=n_resamples, seed=seed, method="percentile")
            rows.append({**row, "ours": est.format(), "our interval vs threshold":
                         against_threshold(est.low, est.high, thr)})
    return pd.DataFrame(rows)


# -------------------------------------------------------------------------------------------- the stage
def round_grid(table: pd.DataFrame, rounds: Sequence[torch.Tensor], sequence: str, show: int = 4,
               cell_inches: float = 1.6):
    """One sequence's pictures as a figure whose title names the sequence and says how to read it: a row per
    round (each picture titled ``r<round>: <instruction>``), a column per sample — the first ``show`` of each
    round, the same sampling seed down a column, so a column follows one picture through the edits."""
    # the generator's helpers and pyplot only for the figure
    from inkgen.generate import to_pil
    from inkgen.viz import image_grid

    part = table[table["sequence"] == sequence]
    if part.empty or len(part) != len(rounds):
        raise InstructionError(f"sequence {sequence!r}: {len(part)} rows in the table, {len(rounds)} rounds of images")
    show = min(show, min(len(x) for x in rounds))
    pictures = [p for imgs in rounds for p in to_pil(imgs[:show])]
    titles = [f"r{r}: {ins}" for r, ins in zip(part["round"], part["instruction"]) for _ in range(show)]
    how = (f"rows: rounds {int(part['round'].min())}–{int(part['round'].max())}, each titled with its instruction; "
           f"columns: samples 1–{show}, one sampling seed per column")
    name = f"{part['label'].iloc[0]} ({sequence})" if "label" in part else sequence
    heading = [name, *textwrap.wrap(how, int(show * cell_inches * 10))]
    return image_grid(pictures, titles, cols=show, cell_inches=cell_inches, wrap=26, suptitle="\n".join(heading))


def judges_table(root: Path, metrics_dir: str) -> pd.DataFrame:
    """The judges' own quality, from the curate and clip stages' metrics (held-out accuracy of the
    classifier's heads; CLIP's validation text -> image recall beside chance)."""
    curate = json.loads((root / metrics_dir / "curate.json").read_text(encoding="utf-8"))
    clip = json.loads((root / metrics_dir / "judge.json").read_text(encoding="utf-8"))
    rows = [{"judge": f"curation classifier, {h} head", "measure": "held-out accuracy", "value": acc,
             "chance / N": f"N={curate.get('n_holdout', {}).get(h, '?')}"}
            for h, acc in curate["heldout_accuracy"].items()]
    rows += [{"judge": "CLIP judge (style embedding)", "measure": f"validation recall@{k}",
              "value": clip[f"val_recall@{k}"],
              "chance / N": f"chance {clip[f'chance@{k}']:.3f}, N={clip['n_val']}"} for k in (1, 5)]
    return pd.DataFrame(rows)
