"""A frozen BERT for inference without importing ``transformers``: the same weights, the same operations.

``inkgen generate`` encodes one prompt with a frozen BERT; importing ``transformers`` and building its
``BertModel`` costs several CPU seconds of a cold start (its import pulls in ``torch._dynamo``,
``torch.distributed`` and ``scipy.optimize``). This module is the encoder-only forward pass of the paper's
section 2.2 BERT (Devlin et al. 2019: word + position + segment embeddings, post-LN self-attention and
feed-forward blocks), written with the same ``torch`` calls in the same order as ``transformers``'
``BertModel`` with its default ``sdpa`` attention (``models/bert/modeling_bert.py``, 5.x), so that its
outputs are bit-identical (``tests/test_text_encoder_lite.py`` checks this against ``transformers``).
Sub-module names follow ``BertModel``'s, so its state dicts (the checkpoint's fine-tuned
``text_encoder_state``) load unchanged. Tokenisation is the directory's ``tokenizer.json`` through the
``tokenizers`` library, the Rust WordPiece that ``transformers``' fast BERT tokenizer wraps.

Only plain frozen BERT directories qualify (:func:`supports`): ``model.safetensors`` and ``tokenizer.json``
present, absolute positions, GELU, an encoder (not a decoder); anything else keeps ``transformers``.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Sequence

import torch
from torch import nn
from torch.nn import functional as F

WEIGHTS = "model.safetensors"
TOKENIZER = "tokenizer.json"


def supports(path: Path) -> bool:
    """Whether the BERT directory ``path`` can be run by this module (else use ``transformers``)."""
    try:
        cfg = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    return ((path / WEIGHTS).is_file() and (path / TOKENIZER).is_file() and cfg.get("model_type") == "bert"
            and cfg.get("hidden_act", "gelu") == "gelu"
            and cfg.get("position_embedding_type", "absolute") == "absolute"
            and not cfg.get("is_decoder", False) and not cfg.get("add_cross_attention", False)
            and (cfg.get("architectures") or ["BertModel"])[0] in ("BertModel", "BertForMaskedLM", "BertForPreTraining"))


class _Linear(nn.Linear):
    """``nn.Linear`` without its random initialisation: every weight of a BertLite but the (unused) pooler's
    is read from the file (:meth:`BertLite.from_dir` refuses a file that lacks one), and initialising ~20 M
    numbers only to overwrite them cost a cold ``inkgen generate`` ~0.2 s."""

    def reset_parameters(self) -> None:
        pass


class _Embedding(nn.Embedding):
    """``nn.Embedding`` without its random initialisation (as :class:`_Linear`)."""

    def reset_parameters(self) -> None:
        pass


class _Embeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = _Embedding(c.vocab_size, c.hidden_size, padding_idx=c.pad_token_id)
        self.position_embeddings = _Embedding(c.max_position_embeddings, c.hidden_size)
        self.token_type_embeddings = _Embedding(c.type_vocab_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def forward(self, input_ids, token_type_ids):
        n = input_ids.shape[1]
        x = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        x = x + self.position_embeddings(torch.arange(n, device=input_ids.device)[None])
        return self.LayerNorm(x)


class _SelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads, self.head_dim = c.num_attention_heads, c.hidden_size // c.num_attention_heads
        self.query = _Linear(c.hidden_size, c.hidden_size)
        self.key = _Linear(c.hidden_size, c.hidden_size)
        self.value = _Linear(c.hidden_size, c.hidden_size)

    def forward(self, x, mask):
        shape = (*x.shape[:-1], -1, self.head_dim)
        q, k, v = (f(x).view(*shape).transpose(1, 2) for f in (self.query, self.key, self.value))
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=0.0, scale=self.head_dim ** -0.5,
                                           is_causal=False)
        y = y.reshape(y.shape[0], -1, x.shape[1], v.shape[-1]).transpose(1, 2).contiguous()
        return y.reshape(*x.shape[:-1], -1).contiguous()


class _Residual(nn.Module):
    """``dense`` then LayerNorm of the sum with the block's input (BERT's post-LN "add & norm")."""

    def __init__(self, c, d_in):
        super().__init__()
        self.dense = _Linear(d_in, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def forward(self, h, x):
        return self.LayerNorm(self.dense(h) + x)


class _Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = _SelfAttention(c)
        self.output = _Residual(c, c.hidden_size)


class _Intermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = _Linear(c.hidden_size, c.intermediate_size)


class _Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = _Attention(c)
        self.intermediate = _Intermediate(c)
        self.output = _Residual(c, c.intermediate_size)

    def forward(self, x, mask):
        a = self.attention.output(self.attention.self(x, mask), x)
        return self.output(F.gelu(self.intermediate.dense(a)), a)


class _Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList(_Layer(c) for _ in range(c.num_hidden_layers))


class _Pooler(nn.Module):  # kept so that BertModel state dicts load strictly; the pooled output is not used
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.hidden_size)


class BertLite(nn.Module):
    """``BertModel``'s encoder forward pass (eval mode: no dropout) over ``config.json``'s architecture."""

    def __init__(self, config: SimpleNamespace):
        super().__init__()
        self.config = config
        self.embeddings = _Embeddings(config)
        self.encoder = _Encoder(config)
        self.pooler = _Pooler(config)

    @classmethod
    def from_dir(cls, path: Path) -> "BertLite":
        from safetensors.torch import load_file  # local: the fallback to transformers must not need it

        cfg = json.loads((path / "config.json").read_text(encoding="utf-8"))
        defaults = {"pad_token_id": 0, "type_vocab_size": 2, "layer_norm_eps": 1e-12}
        model = cls(SimpleNamespace(**{**defaults, **cfg}))
        state = load_file(str(path / WEIGHTS))
        state = {k.removeprefix("bert."): v for k, v in state.items()}
        state = {k: v for k, v in state.items() if not k.startswith("cls.") and not k.endswith("position_ids")}
        missing, unexpected = model.load_state_dict(state, strict=False)
        # the pooler is not used (features are the last hidden states); any other gap means another layout
        if unexpected or any(not k.startswith("pooler.") for k in missing):
            raise ValueError(f"{path / WEIGHTS}: not a BertModel state dict (missing {missing[:3]}, unexpected "
                             f"{unexpected[:3]})")
        return model.eval()

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor | None = None) -> SimpleNamespace:
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        x = self.embeddings(input_ids, token_type_ids)
        b, n = input_ids.shape
        # as transformers' sdpa_mask: no mask without padding, else a (B, 1, L, L) boolean "may attend" mask
        mask = None if bool(attention_mask.all()) else attention_mask.bool()[:, None, None, :].expand(b, 1, n, n)
        for layer in self.encoder.layer:
            x = layer(x, mask)
        return SimpleNamespace(last_hidden_state=x)


class WordPiece:
    """The directory's ``tokenizer.json`` called like a ``transformers`` fast tokenizer (the subset used here)."""

    def __init__(self, path: Path):
        from tokenizers import Tokenizer  # local: loaded with the encoder, not with the module

        self.tok = Tokenizer.from_file(str(path / TOKENIZER))
        self.tok.no_truncation()
        self.tok.no_padding()
        # the pad token of tokenizer.json's own padding setting (its fixed length is not used: padding is to
        # the longest prompt of the call, as ``transformers``' ``padding=True``)
        raw = json.loads((path / TOKENIZER).read_text(encoding="utf-8")).get("padding") or {}
        self.pad_id, self.pad_token = int(raw.get("pad_id", 0)), raw.get("pad_token", "[PAD]")

    def __call__(self, texts: Sequence[str], *, padding: bool = False, truncation: bool = False,
                 max_length: int | None = None, return_tensors: str | None = None):
        if truncation:
            self.tok.enable_truncation(int(max_length))
        else:
            self.tok.no_truncation()
        if padding:
            self.tok.enable_padding(pad_id=self.pad_id, pad_token=self.pad_token)
        else:
            self.tok.no_padding()
        enc = self.tok.encode_batch(list(texts))
        out = {"input_ids": [e.ids for e in enc], "token_type_ids": [e.type_ids for e in enc],
               "attention_mask": [e.attention_mask for e in enc]}
        return {k: torch.tensor(v, dtype=torch.long) for k, v in out.items()} if return_tensors == "pt" else out
