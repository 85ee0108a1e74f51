"""Vector quantisation: eq. 7 (one codebook) and eq. 10 (global-structure + detail codebooks).

    z_q = argmin_{z_k in C} ||z_e - z_k||_2^2                                             (eq. 7)

``VectorQuantizer`` follows taming-transformers' ``VectorQuantizer2`` (Esser et al. 2021) with
``legacy=False``, i.e. the CORRECTED loss

    L_vq = ||sg[z_e] - z_q||^2 + beta * ||z_e - sg[z_q]||^2        (codebook term + beta * commitment)

(taming's ``legacy=True`` puts ``beta`` on the codebook term instead), and the straight-through
estimator ``z_q = z_e + sg[z_q - z_e]``. Added here: codebook usage statistics (share of codes used,
perplexity) and re-initialisation of dead codes from a ring buffer of recent encoder outputs.

``DualCodebookQuantizer`` is eq. 10: the global-structure codebook ``C^g`` quantises a pooled,
low-resolution view ``z_e^g = AvgPool_f(z_e)``; the detail codebook ``C^d`` quantises the residual
``z_e^d = z_e - Up(z_q^g)``; ``z_final = Up(z_q^g) + z_q^d``.
"""

from __future__ import annotations


import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn


def gather(t: torch.Tensor) -> torch.Tensor:
    """Under data-parallel training (an initialised process group), ``t`` of every rank concatenated in rank
    order along dim 0 (equal shapes): with the contiguous per-rank shards of ``inkgen.training.distributed``
    this is the tensor of the whole global batch, in the order one process would see it. Else ``t``."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return t
    parts = [torch.empty_like(t) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, t.contiguous())
    return torch.cat(parts)


def corrected_vq_loss(z_e: torch.Tensor, z_q: torch.Tensor, beta: float) -> torch.Tensor:
    """``mean((sg[z_e] - z_q)^2) + beta * mean((z_e - sg[z_q])^2)`` (taming legacy=False)."""
    return torch.mean((z_e.detach() - z_q) ** 2) + beta * torch.mean((z_e - z_q.detach()) ** 2)


def legacy_vq_loss(z_e: torch.Tensor, z_q: torch.Tensor, beta: float) -> torch.Tensor:
    """taming's ``legacy=True`` form (beta on the codebook term) - kept only to show the difference."""
    return beta * torch.mean((z_e.detach() - z_q) ** 2) + torch.mean((z_e - z_q.detach()) ** 2)


class VectorQuantizer(nn.Module):
    def __init__(self, n_embed: int, embed_dim: int, beta: float, dead_code_steps: int = 0,
                 code_buffer: int = 2048):
        super().__init__()
        self.n_embed, self.embed_dim, self.beta = n_embed, embed_dim, beta
        self.dead_code_steps = dead_code_steps
        self.embedding = nn.Embedding(n_embed, embed_dim)
        self.embedding.weight.data.uniform_(-1.0 / n_embed, 1.0 / n_embed)          # taming's init
        self.register_buffer("code_age", torch.zeros(n_embed, dtype=torch.long))     # steps since last use
        self.register_buffer("recent", torch.zeros(code_buffer, embed_dim))          # recent z_e vectors
        self.register_buffer("recent_ptr", torch.zeros((), dtype=torch.long))
        self.register_buffer("recent_filled", torch.zeros((), dtype=torch.long))
        self.register_buffer("n_reinit", torch.zeros((), dtype=torch.long))          # codes re-initialised so far

    def nearest(self, flat: torch.Tensor) -> torch.Tensor:
        """Indices of the nearest codes, ``flat`` (N, D) -> (N,)."""
        w = self.embedding.weight
        d = (flat.pow(2).sum(1, keepdim=True) - 2 * flat @ w.t() + w.pow(2).sum(1)[None, :])   # (N, K)
        return torch.argmin(d, dim=1)

    def lookup(self, idx: torch.Tensor) -> torch.Tensor:
        """Code vectors of ``idx`` (B, H, W) as (B, D, H, W)."""
        return self.embedding(idx).permute(0, 3, 1, 2).contiguous()

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        """``z`` (B, D, H, W) -> (straight-through z_q (B, D, H, W), loss, indices (B, H, W), stats)."""
        # Under mixed precision the code search, the loss and the fp32 restart buffers stay in fp32: bf16
        # rounding would change nearest-code assignments (in fp32, z.float() is z itself: nothing changes).
        with torch.autocast(z.device.type, enabled=False):
            return self._quantize(z.float())

    def _quantize(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        b, d, h, w = z.shape
        flat = z.permute(0, 2, 3, 1).reshape(-1, d)                 # (B*H*W, D)
        idx = self.nearest(flat.detach())                           # (B*H*W,)
        z_q = self.embedding(idx).view(b, h, w, d).permute(0, 3, 1, 2)   # (B, D, H, W)
        loss = corrected_vq_loss(z, z_q, self.beta)
        z_q = z + (z_q - z).detach()                                # straight-through estimator
        # under DDP every rank tracks the codes of the global batch, so the ranks' buffers, dead codes and
        # re-initialisations agree (and equal a single process's); outside DDP gather() returns its input
        seen = gather(idx) if self.training else idx
        stats = self.usage_stats(seen)
        if self.training:
            self._track(seen, gather(flat.detach()))
            if self.dead_code_steps > 0:
                self.reinit_dead_codes()
        return z_q, loss, idx.view(b, h, w), stats

    @torch.no_grad()
    def usage_stats(self, idx: torch.Tensor) -> dict[str, torch.Tensor]:
        counts = torch.bincount(idx.flatten(), minlength=self.n_embed).float()
        p = counts / counts.sum().clamp_min(1)
        perplexity = torch.exp(-(p * torch.log(p.clamp_min(1e-10))).sum())
        return {"usage": (counts > 0).float().mean(), "perplexity": perplexity}

    @torch.no_grad()
    def _track(self, idx: torch.Tensor, flat: torch.Tensor) -> None:
        used = torch.zeros(self.n_embed, dtype=torch.bool, device=idx.device)
        used[idx] = True
        self.code_age.add_(1).masked_fill_(used, 0)
        cap = self.recent.shape[0]
        if cap == 0:
            return
        take = flat[torch.randperm(flat.shape[0], device=flat.device)[:cap]]        # (n, D), n <= cap
        pos = (self.recent_ptr + torch.arange(take.shape[0], device=flat.device)) % cap
        self.recent[pos] = take
        self.recent_ptr.copy_((self.recent_ptr + take.shape[0]) % cap)
        self.recent_filled.copy_(torch.clamp(self.recent_filled + take.shape[0], max=cap))

    @torch.no_grad()
    def reinit_dead_codes(self, min_age: int | None = None) -> int:
        """Re-initialise codes unused for ``min_age`` (default ``dead_code_steps``) training steps.

        Each dead code becomes a random recent encoder output (plus a little noise); its age is reset and
        ``n_reinit`` counts it. Returns how many were re-initialised.
        """
        min_age = self.dead_code_steps if min_age is None else min_age
        n = int(self.recent_filled)
        if n == 0 or min_age <= 0:
            return 0
        dead = torch.nonzero(self.code_age >= min_age).flatten()
        if dead.numel() == 0:
            return 0
        pool = self.recent[:n]
        pick = torch.randint(0, n, (dead.numel(),), device=pool.device)
        noise = torch.randn(dead.numel(), self.embed_dim, device=pool.device) * (pool.std() * 0.01 + 1e-6)
        self.embedding.weight.data[dead] = pool[pick] + noise
        self.code_age[dead] = 0
        self.n_reinit += dead.numel()
        return int(dead.numel())


class SingleQuantizer(nn.Module):
    """Eq. 7 with one codebook; indices ``{"detail": (B, H, W)}``."""

    def __init__(self, n_embed: int, embed_dim: int, beta: float, dead_code_steps: int, code_buffer: int):
        super().__init__()
        self.detail = VectorQuantizer(n_embed, embed_dim, beta, dead_code_steps, code_buffer)

    def codebooks(self) -> dict[str, VectorQuantizer]:
        return {"detail": self.detail}

    def forward(self, z: torch.Tensor):
        z_q, loss, idx, st = self.detail(z)
        return z_q, {"detail": idx}, loss, {f"detail_{k}": v for k, v in st.items()}

    def lookup(self, indices: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.detail.lookup(indices["detail"])


class DualCodebookQuantizer(nn.Module):
    """Eq. 10: global-structure codebook on ``AvgPool_f(z_e)`` + detail codebook on the residual.

    Indices ``{"global": (B, H/f, W/f), "detail": (B, H, W)}``; the loss is the sum of both codebooks'
    corrected losses.
    """

    def __init__(self, n_embed: int, n_embed_global: int, embed_dim: int, factor: int, beta: float,
                 dead_code_steps: int, code_buffer: int):
        super().__init__()
        self.factor = factor
        self.global_ = VectorQuantizer(n_embed_global, embed_dim, beta, dead_code_steps, code_buffer)
        self.detail = VectorQuantizer(n_embed, embed_dim, beta, dead_code_steps, code_buffer)

    def codebooks(self) -> dict[str, VectorQuantizer]:
        return {"global": self.global_, "detail": self.detail}

    def _up(self, z: torch.Tensor) -> torch.Tensor:
        return F.interpolate(z, scale_factor=float(self.factor), mode="nearest")   # (B, D, h, w) -> (B, D, fh, fw)

    def forward(self, z: torch.Tensor):
        z_g = F.avg_pool2d(z, self.factor)                          # z_e^g: (B, D, H/f, W/f)
        zq_g, loss_g, idx_g, st_g = self.global_(z_g)               # straight-through wrt z_g
        residual = z - self._up(zq_g.detach())                      # z_e^d: (B, D, H, W)
        zq_d, loss_d, idx_d, st_d = self.detail(residual)
        z_final = self._up(zq_g) + zq_d                             # (B, D, H, W)
        stats = {**{f"global_{k}": v for k, v in st_g.items()}, **{f"detail_{k}": v for k, v in st_d.items()}}
        return z_final, {"global": idx_g, "detail": idx_d}, loss_g + loss_d, stats

    def lookup(self, indices: dict[str, torch.Tensor]) -> torch.Tensor:
        return self._up(self.global_.lookup(indices["global"])) + self.detail.lookup(indices["detail"])
