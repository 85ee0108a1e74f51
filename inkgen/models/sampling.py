"""Autoregressive sampling of VQGAN code grids from text with :class:`inkgen.models.cross_modal.TextToCodes`.

Incremental decoding: a self-attention KV cache per layer and a running-softmax state for eq. 11
(:class:`inkgen.models.alignment.OnlineAlignment`), so each token costs one slot's work.

Randomness: sampling is the Gumbel-max trick (``argmax(logits / temperature + Gumbel noise)`` is an exact
draw from ``softmax(logits / temperature)``), with the noise of caption row ``r`` drawn from its own
``torch.Generator`` seeded from ``(seed, r)``. The result therefore depends only on the seed, the model and
the caption -- not on the chunk size ``batch`` nor on the other captions in the call. ``temperature == 0``
is greedy (argmax). ``top_k`` keeps only the ``k`` most likely codes at each step.
"""

from __future__ import annotations

import torch

from inkgen.models.cross_modal import TextToCodes


def _row_generator(seed: int, row: int) -> torch.Generator:
    return torch.Generator().manual_seed((int(seed) * 1_000_003 + int(row)) % (2 ** 63))


def _gumbel(gen: torch.Generator, shape: tuple[int, ...]) -> torch.Tensor:
    u = torch.rand(shape, generator=gen).clamp_(1e-10, 1.0 - 1e-7)
    return -torch.log(-torch.log(u))


@torch.no_grad()
def generate_codes(model: TextToCodes, text_features: torch.Tensor, mask: torch.Tensor | None = None,
                   pooled: torch.Tensor | None = None, *, temperature: float = 1.0, top_k: int | None = None,
                   seed: int = 0, batch: int = 16) -> list[torch.Tensor]:
    """Sample one code-grid set per caption.

    ``text_features`` (B, L, text_dim), ``mask`` (B, L), ``pooled`` (B, text_dim) (the ablation needs it).
    Captions are decoded ``batch`` at a time. Returns one long tensor (B, h_s, w_s) per stream, in the
    model's stream order (global first, then detail).
    """
    if temperature < 0:
        raise ValueError("temperature must be >= 0")
    if top_k is not None and top_k < 1:
        raise ValueError("top_k must be >= 1 or None")
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
            cache = model.start(text_features[r0:r1], None if mask is None else mask[r0:r1],
                                None if pooled is None else pooled[r0:r1])
            prev = None
            flat = torch.empty(r1 - r0, n, dtype=torch.long, device=text_features.device)
            for i in range(n):
                logits = model.step(cache, prev).float()
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
