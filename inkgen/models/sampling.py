"""Autoregressive sampling of VQGAN code grids from text with :class:`inkgen.models.cross_modal.TextToCodes`.

Incremental decoding: a self-attention KV cache per layer and a running-softmax state for eq. 11
(:class:`inkgen.models.alignment.OnlineAlignment`), so each token costs one slot's work.

Randomness: sampling is the Gumbel-max trick (``argmax(logits / temperature + Gumbel noise)`` is an exact
draw from ``softmax(logits / temperature)``), with the noise of caption row ``r`` drawn from its own
``torch.Generator`` seeded from ``(seed, r)``. The result therefore depends only on the seed, the model and
the caption -- not on the chunk size ``batch`` nor on the other captions in the call. ``temperature == 0``
is greedy (argmax). ``top_k`` keeps only the ``k`` most likely codes at each step.

Classifier-free guidance (Ho & Salimans 2022, eq. 6, on logits as for autoregressive token models: Gafni
et al., Make-A-Scene, ECCV 2022, sec. 3.3; Yu et al., Parti, 2022, sec. 2.4): with ``guidance_scale`` s != 1
each caption is decoded beside the empty caption, both fed the same sampled tokens, and the next token is
drawn from ``logits_empty + s * (logits_caption - logits_empty)`` (then ``top_k`` and temperature). s > 1
paints what the caption asks for more than what paintings look like on average; it needs a prior trained
with condition dropout (``prior_train.uncond_prob``).
"""

from __future__ import annotations

import torch

from inkgen.models.cross_modal import TextToCodes


def _row_generator(seed: int, row: int) -> torch.Generator:
    return torch.Generator().manual_seed((int(seed) * 1_000_003 + int(row)) % (2 ** 63))


def _gumbel(gen: torch.Generator, shape: tuple[int, ...]) -> torch.Tensor:
    u = torch.rand(shape, generator=gen).clamp_(1e-10, 1.0 - 1e-7)
    return -torch.log(-torch.log(u))


def _with_empty(tokens: torch.Tensor, mask: torch.Tensor | None, pooled: torch.Tensor | None,
                empty: tuple[torch.Tensor, torch.Tensor, torch.Tensor]
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """The captions' features (b rows) followed by b rows of the empty caption's, padded to one length."""
    e_tokens, e_mask, e_pooled = (t.to(tokens.device) for t in empty)
    b, length = tokens.shape[:2]
    n = max(length, e_tokens.shape[1])
    if mask is None:
        mask = torch.ones(b, length, dtype=torch.long, device=tokens.device)
    pad = torch.nn.functional.pad
    tokens = torch.cat([pad(tokens, (0, 0, 0, n - length)),
                        pad(e_tokens.to(tokens.dtype), (0, 0, 0, n - e_tokens.shape[1])).expand(b, -1, -1)])
    mask = torch.cat([pad(mask.long(), (0, n - length)), pad(e_mask.long(), (0, n - e_mask.shape[1])).expand(b, -1)])
    if pooled is not None:
        pooled = torch.cat([pooled, e_pooled.to(pooled.dtype).expand(b, -1)])
    return tokens, mask, pooled


@torch.no_grad()
def generate_codes(model: TextToCodes, text_features: torch.Tensor, mask: torch.Tensor | None = None,
                   pooled: torch.Tensor | None = None, *, temperature: float = 1.0, top_k: int | None = None,
                   seed: int = 0, batch: int = 16, guidance_scale: float = 1.0,
                   empty: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None) -> list[torch.Tensor]:
    """Sample one code-grid set per caption.

    ``text_features`` (B, L, text_dim), ``mask`` (B, L), ``pooled`` (B, text_dim) (the ablation needs it).
    Captions are decoded ``batch`` at a time. ``guidance_scale`` != 1 needs ``empty``, the empty caption's
    (tokens (1, L0, D), mask (1, L0), pooled (1, D)). Returns one long tensor (B, h_s, w_s) per stream, in
    the model's stream order (global first, then detail).
    """
    if temperature < 0:
        raise ValueError("temperature must be >= 0")
    if top_k is not None and top_k < 1:
        raise ValueError("top_k must be >= 1 or None")
    if not guidance_scale >= 0:
        raise ValueError(f"guidance_scale must be >= 0, got {guidance_scale!r}")
    guided = guidance_scale != 1
    if guided and empty is None:
        raise ValueError("guidance_scale != 1 needs the empty caption's features (empty=...)")
    was_training = model.training
    model.eval()
    try:
        n_total = text_features.shape[0]
        n = model.config.seq_len
        token_stream = [model.stream_of(i) for i in range(n)]
        out_rows = []
        for r0 in range(0, n_total, max(1, int(batch))):
            r1 = min(n_total, r0 + max(1, int(batch)))
            noise = None
            if temperature > 0:
                # per row, per stream: (h_s·w_s, K_s) Gumbel noise, one generator per row
                noise = []
                for r in range(r0, r1):
                    g = _row_generator(seed, r)
                    noise.append([_gumbel(g, (h * w, k)) for (h, w), k in zip(model.shapes, model.ks)])
                noise = [torch.stack([row[s] for row in noise]).to(text_features.device)
                         for s in range(len(model.shapes))]
            rows = (text_features[r0:r1], None if mask is None else mask[r0:r1],
                    None if pooled is None else pooled[r0:r1])
            cache = model.start(*(_with_empty(*rows, empty) if guided else rows))
            prev = None
            flat = torch.empty(r1 - r0, n, dtype=torch.long, device=text_features.device)
            for i in range(n):
                fed = torch.cat([prev, prev]) if guided and prev is not None else prev  # both halves: same tokens
                logits = model.step(cache, fed).float()
                if guided:  # rows 0..b-1 read the captions, b..2b-1 the empty caption
                    with_text, without = logits.chunk(2)
                    logits = without + guidance_scale * (with_text - without)
                if top_k is not None and top_k < logits.shape[-1]:
                    kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]
                    logits = logits.masked_fill(logits < kth, float("-inf"))
                if temperature == 0:
                    tok = logits.argmax(dim=-1)
                else:
                    s, j = token_stream[i]
                    tok = (logits / temperature + noise[s][:, j]).argmax(dim=-1)
                flat[:, i] = tok
                prev = tok
            out_rows.append(flat)
        return model.unflatten_codes(torch.cat(out_rows, dim=0))
    finally:
        model.train(was_training)
