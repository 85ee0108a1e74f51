"""The Transformer stacked decoder of TIG-IVM (paper section 2.2, Figure 5, Equation 11): text -> VQGAN codes.

The VQGAN turns an image into grids of discrete code indices (a global-structure grid and a detail grid
when it uses two codebooks, eq. 10). This decoder predicts those indices from the caption, one token at a
time; the VQGAN decoder then turns them into the painting. That is how text becomes an image.

Sequence. Each "stream" is one code grid ``(h, w)`` over a codebook of size ``K``; the streams are
concatenated in config order (global first, then detail), each in raster order, after a BOS token:
``[BOS, g_0 .. g_{hg·wg-1}, c_0 .. c_{h·w-1}]``. Slot ``i`` of the input holds the *previous* token (BOS at
slot 0) and predicts token ``i`` (teacher forcing; loss = cross-entropy over all code tokens).

Embeddings. A code token's image feature is ``I = E_s[c] + row_s[r] + col_s[c] + stream[s]`` (codebook
embedding + factorised 2-D positional embedding of its stream + stream embedding). The input at slot ``i``
is ``I(previous token)`` (or BOS) plus the 2-D position/stream embedding of the token to be predicted at
``i``, so every slot knows both what it has seen and which cell it must fill.

Layers (pre-LayerNorm, residual around each sub-block), ``n_layers`` times:

  (a) causal multi-head self-attention over the image-token sequence;
  (b) multi-head cross-attention from the image tokens (queries) to the ALIGNED text features (keys and
      values) -- ``Align(T, I_{≤i}) = softmax(T I_{≤i}ᵀ/√d) I_{≤i} + T`` (eq. 11);
  (c) MLP (GELU).

Where eq. 11 sits and why. In eq. 11 the *text* is the query and the *image* supplies keys and values;
its output has the text's shape. So it cannot be the image tokens' attention itself -- it is a module that
refines the text features given the image generated so far ("forces semantic alignment between text and
image features", section 2.2), and the image tokens then read the refined text through ordinary
cross-attention (b). To stay autoregressive, the image features ``I`` of eq. 11 at slot ``i`` are the
input embeddings of slots ``≤ i`` only (what is known before token ``i`` is drawn): one alignment per
prefix. ``I`` is the embedding layer's output (code + 2-D position), so the alignment is computed once per
forward pass and shared by all layers; each layer has its own key/value projections of it. Because those
projections are linear (no bias), ``W·Align(T, I_{≤i}) = A_i (W I) + W T``; training therefore never
materialises the (B, N, L, d) aligned features. Moreover the prefix weights factor as
``A[i, l, j] = E[l, j]·[j ≤ i] / Z[i, l]`` with ``E = exp(S − max_j S)`` and ``Z`` its running sum, so
the cross-attention scores and outputs become plain (masked) matrix products and not even the
(B, N, L, N) weights are formed (the explicit weights are used instead when ``exact_alignment`` is set or
when a prefix's scores sit so far below the row maximum that ``exp`` would underflow). Sampling keeps
a running softmax per text token (:class:`inkgen.models.alignment.OnlineAlignment`), O(L·d) per token.

Ablation ``use_alignment=False`` (the study's ``no_transformer`` variant, "no cross-modal alignment module:
text enters only by a simple projection"): no alignment and no cross-attention sub-block (b); the pooled
BERT vector is linearly projected to ``d`` and ADDED to every image-token input embedding. Everything else
(embeddings, self-attention, MLPs, heads, loss, sampling) is identical. The full model does not use the
pooled vector (its text enters through eq. 11 and the cross-attention only).

Text inputs: BERT token features (B, L, text_dim), attention mask (B, L) (1/True = real token, at least one
per row) and the pooled vector (B, text_dim).
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from inkgen.models.alignment import CrossModalAlignment, OnlineAlignment
from inkgen.models.cross_modal_config import CrossModalConfig
from inkgen.models.decoder_layer import DecoderLayer

# ------------------------------------------------------------------------------------------------ model
class TextToCodes(nn.Module):
    """Autoregressive Transformer stacked decoder: BERT text features -> VQGAN code grids."""

    def __init__(self, config: CrossModalConfig):
        super().__init__()
        self.config = c = config
        d = c.d_model
        self.ks = [k for _, k in c.streams]
        self.shapes = [hw for hw, _ in c.streams]
        offsets = [0]
        for k in self.ks:
            offsets.append(offsets[-1] + k)
        self.code_offsets = offsets  # stream s uses vocabulary rows offsets[s] .. offsets[s+1]-1
        stream_id, rows, cols = [], [], []
        for s, (h, w) in enumerate(self.shapes):
            stream_id += [s] * (h * w)
            rows += [r for r in range(h) for _ in range(w)]
            cols += [col for _ in range(h) for col in range(w)]
        self.register_buffer("tok_stream", torch.tensor(stream_id), persistent=False)
        self.register_buffer("tok_row", torch.tensor(rows), persistent=False)
        self.register_buffer("tok_col", torch.tensor(cols), persistent=False)
        self.register_buffer("tok_offset", torch.tensor([offsets[s] for s in stream_id]), persistent=False)

        self.tok_emb = nn.Embedding(offsets[-1], d)
        self.bos = nn.Parameter(torch.zeros(d))
        self.row_emb = nn.ModuleList(nn.Embedding(h, d) for h, _ in self.shapes)
        self.col_emb = nn.ModuleList(nn.Embedding(w, d) for _, w in self.shapes)
        self.stream_emb = nn.Embedding(len(self.shapes), d)
        if c.use_alignment:
            self.alignment = CrossModalAlignment(c.text_dim, d)
        else:
            self.text_proj = nn.Linear(c.text_dim, d)  # the ablation's "simple projection" of the pooled vector
        self.emb_drop = nn.Dropout(c.dropout)
        self.layers = nn.ModuleList(DecoderLayer(d, c.n_heads, c.dropout, c.use_alignment, c.mlp_ratio)
                                    for _ in range(c.n_layers))
        self.ln_f = nn.LayerNorm(d)
        self.head = nn.Linear(d, offsets[-1])
        # True: always train with the explicit (B, N, L, N) eq. 11 weights (slower; for checks).
        self.exact_alignment = False
        self.apply(self._init)
        nn.init.normal_(self.bos, std=0.02)

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
            if getattr(m, "bias", None) is not None:
                nn.init.zeros_(m.bias)

    def param_count(self, trainable_only: bool = True) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    # ---- sequence helpers
    def flatten_codes(self, codes: torch.Tensor | Sequence[torch.Tensor]) -> torch.Tensor:
        """Code grids [(B, h_s, w_s)] in stream order (a bare tensor for one stream) -> (B, N) local ids."""
        if isinstance(codes, torch.Tensor):
            codes = [codes]
        if len(codes) != len(self.shapes):
            raise ValueError(f"expected {len(self.shapes)} code grids, got {len(codes)}")
        flat = []
        for g, (h, w), k in zip(codes, self.shapes, self.ks):
            if g.dim() != 3 or tuple(g.shape[1:]) != (h, w):
                raise ValueError(f"code grid of shape {tuple(g.shape)} does not match stream (B, {h}, {w})")
            if g.numel() and (int(g.min()) < 0 or int(g.max()) >= k):
                raise ValueError(f"code index out of range [0, {k})")
            flat.append(g.reshape(g.shape[0], h * w).long())
        return torch.cat(flat, dim=1)

    def unflatten_codes(self, flat: torch.Tensor) -> list[torch.Tensor]:
        """(B, N) local ids -> code grids [(B, h_s, w_s)]."""
        out, start = [], 0
        for h, w in self.shapes:
            out.append(flat[:, start:start + h * w].reshape(-1, h, w))
            start += h * w
        return out

    def position_table(self) -> torch.Tensor:
        """(N, d): 2-D position + stream embedding of every code token."""
        parts = []
        for s in range(len(self.shapes)):
            sel = self.tok_stream == s
            parts.append(self.row_emb[s](self.tok_row[sel]) + self.col_emb[s](self.tok_col[sel]))
        return torch.cat(parts, dim=0) + self.stream_emb(self.tok_stream)

    def _image_features(self, flat: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        """Input content of every slot: BOS, then ``I`` of tokens 0..N-2 -> (B, N, d)."""
        b, n = flat.shape
        emb = self.tok_emb(flat[:, :n - 1] + self.tok_offset[:n - 1]) + pos[:n - 1]
        return torch.cat([self.bos.expand(b, 1, -1), emb], dim=1)

    def _pad(self, text: torch.Tensor, text_mask: torch.Tensor | None) -> torch.Tensor:
        if text_mask is None:
            return torch.zeros(text.shape[:2], dtype=torch.bool, device=text.device)
        pad = ~text_mask.bool()
        if bool(pad.all(dim=1).any()):
            raise ValueError("every caption needs at least one unmasked text token")
        return pad

    # ---- training
    def forward(self, codes: torch.Tensor | Sequence[torch.Tensor], text: torch.Tensor,
                text_mask: torch.Tensor | None = None, pooled: torch.Tensor | None = None) -> list[torch.Tensor]:
        """Teacher-forced logits, one (B, h_s·w_s, K_s) tensor per stream (raster order)."""
        flat = self.flatten_codes(codes)
        pos = self.position_table()
        I = self._image_features(flat, pos)
        x = I + pos
        ctx: dict[str, torch.Tensor] = {}
        if self.config.use_alignment:
            T = self.alignment.project_text(text)
            ctx = {"I": I, "T": T, "pad": self._pad(text, text_mask)}
            S = T @ I.transpose(-1, -2) / math.sqrt(self.config.d_model)  # (B, L, N) eq. 11 scores
            top = S.amax(dim=-1, keepdim=True)
            # Factorised eq. 11 (one shared max per text token) unless some prefix lies so far below the
            # global max that exp() would underflow; then the exact per-prefix softmax weights.
            if self.exact_alignment or float((S.detach().cummax(dim=-1).values - top.detach()).min()) < -60.0:
                ctx["A"] = self.alignment.prefix_weights(T, I)
            else:
                E = torch.exp(S - top)  # (B, L, N)
                n = I.shape[1]
                ctx.update(E=E, Zt=E.cumsum(dim=-1).transpose(1, 2),  # Zt[b, i, l] = Σ_{j≤i} E[b, l, j]
                           future=torch.ones(n, n, dtype=torch.bool, device=I.device).triu(1))
        else:
            if pooled is None:
                raise ValueError("use_alignment=False needs the pooled text vector")
            x = x + self.text_proj(pooled).unsqueeze(1)
        x = self.emb_drop(x)
        for layer in self.layers:
            x = layer(x, ctx)
        x = self.ln_f(x)
        out, start = [], 0
        for s, (h, w) in enumerate(self.shapes):
            lo, hi = self.code_offsets[s], self.code_offsets[s + 1]
            out.append(F.linear(x[:, start:start + h * w], self.head.weight[lo:hi], self.head.bias[lo:hi]))
            start += h * w
        return out

    def loss(self, codes: torch.Tensor | Sequence[torch.Tensor], text: torch.Tensor,
             text_mask: torch.Tensor | None = None, pooled: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """``{"loss": mean cross-entropy over all code tokens, "loss_s<k>": per stream}``."""
        flat = self.flatten_codes(codes)
        logits = self(codes, text, text_mask, pooled)
        out, start, total = {}, 0, 0.0
        for s, lg in enumerate(logits):
            n = lg.shape[1]
            ce = F.cross_entropy(lg.reshape(-1, lg.shape[-1]), flat[:, start:start + n].reshape(-1), reduction="sum")
            out[f"loss_s{s}"] = ce.detach() / lg.shape[0] / n
            total = total + ce
            start += n
        out["loss"] = total / flat.numel()
        return out

    # ---- incremental decoding (used by inkgen.models.sampling)
    @torch.no_grad()
    def start(self, text: torch.Tensor, text_mask: torch.Tensor | None = None,
              pooled: torch.Tensor | None = None) -> dict[str, Any]:
        """Decoding state for a batch of captions: KV caches, online eq. 11 state, position 0."""
        c = self.config
        b = text.shape[0]
        n = c.seq_len
        shape = (b, c.n_heads, n, c.d_model // c.n_heads)
        cache: dict[str, Any] = {
            "i": 0, "pos": self.position_table(),
            "k": [text.new_zeros(shape) for _ in self.layers], "v": [text.new_zeros(shape) for _ in self.layers],
        }
        if c.use_alignment:
            T = self.alignment.project_text(text)
            cache["T"] = T
            cache["pad"] = self._pad(text, text_mask)
            cache["k_t"] = [layer.ck(T) for layer in self.layers]
            cache["v_t"] = [layer.cv(T) for layer in self.layers]
            cache["online"] = OnlineAlignment(T, c.d_model, [c.d_model] * (1 + 2 * len(self.layers)))
        else:
            if pooled is None:
                raise ValueError("use_alignment=False needs the pooled text vector")
            cache["text_add"] = self.text_proj(pooled)
        return cache

    @torch.no_grad()
    def step(self, cache: dict[str, Any], prev: torch.Tensor | None) -> torch.Tensor:
        """Feed the previous token's local code id ``prev`` (B,) (None at slot 0) and get the logits
        (B, K_s) of the next token (stream ``s`` of slot ``cache["i"]``); advances the slot."""
        i, pos = cache["i"], cache["pos"]
        if i >= self.config.seq_len:
            raise IndexError("all code tokens have been generated")
        b = cache["k"][0].shape[0]
        if i == 0:
            img = self.bos.expand(b, -1)
        else:
            img = self.tok_emb(prev.long() + self.tok_offset[i - 1]) + pos[i - 1]
        x = img + pos[i]
        if self.config.use_alignment:
            values = [img] + [f(img) for layer in self.layers for f in (layer.ck, layer.cv)]
            cache["online"].update(img, values)
        else:
            x = x + cache["text_add"]
        x = x.unsqueeze(1)
        for li, layer in enumerate(self.layers):
            x = layer.step(x, i, cache, li)
        x = self.ln_f(x)[:, 0]
        s = int(self.tok_stream[i])
        lo, hi = self.code_offsets[s], self.code_offsets[s + 1]
        cache["i"] = i + 1
        return F.linear(x, self.head.weight[lo:hi], self.head.bias[lo:hi])

    def stream_of(self, i: int) -> tuple[int, int]:
        """(stream, index within the stream) of code token ``i``."""
        s = int(self.tok_stream[i])
        return s, i - sum(h * w for h, w in self.shapes[:s])
