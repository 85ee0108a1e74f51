"""VQGAN training losses: reconstruction, eq. 14's total, and the discriminator's hinge loss.

    L_total = L_recon + beta * L_vq + eta * L_GAN + lambda * L_CLIP                       (eq. 14)

``L_recon`` is the L1 distance between image and reconstruction. taming-transformers (Esser et al.
2021) adds an LPIPS perceptual term, but LPIPS needs pretrained VGG weights that cannot be downloaded
here, so NO perceptual loss is used (nothing pretends to be one). ``L_vq`` is the quantizer's corrected
loss; ``L_GAN`` is the hinge generator loss ``-mean(D(x_rec))`` scaled by taming's adaptive weight and
switched on at ``disc_start``; ``L_CLIP`` (eq. 13) is computed elsewhere and passed in as a tensor.
(The paper's prose attaches the weight names to the wrong terms; the weights here follow the equation.)
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from inkgen.models.vqgan.config import VQGANConfig
from inkgen.models.vqgan.discriminator import (NLayerDiscriminator, adopt_weight, calculate_adaptive_weight,
                                               hinge_d_loss, hinge_g_loss)


def reconstruction_loss(x: torch.Tensor, x_rec: torch.Tensor) -> torch.Tensor:
    return torch.mean(torch.abs(x - x_rec))


def total_loss(l_recon: torch.Tensor, l_vq: torch.Tensor, l_gan: torch.Tensor | float = 0.0,
               l_clip: torch.Tensor | float = 0.0, beta: float = 1.0, eta: torch.Tensor | float = 1.0,
               lam: float = 0.0) -> torch.Tensor:
    """Eq. 14 as written."""
    return l_recon + beta * l_vq + eta * l_gan + lam * l_clip


class VQGANLoss(nn.Module):
    """Holds the PatchGAN discriminator and computes both sides of a VQGAN step (taming's
    ``VQLPIPSWithDiscriminator`` without LPIPS).

    ``beta``: weight of ``L_vq`` (eq. 14); ``eta``: GAN weight (multiplied by the adaptive weight);
    ``lam``: CLIP weight; ``disc_start``: step at which the GAN terms switch on.
    """

    def __init__(self, cfg: VQGANConfig, beta: float = 1.0, eta: float = 0.8, lam: float = 0.0,
                 disc_start: int = 0, adaptive: bool = True):
        super().__init__()
        self.discriminator = NLayerDiscriminator(cfg.out_channels, cfg.disc_ndf, cfg.disc_layers)
        self.beta, self.eta, self.lam = beta, eta, lam
        self.disc_start, self.adaptive = disc_start, adaptive

    def generator_loss(self, x: torch.Tensor, x_rec: torch.Tensor, vq_loss: torch.Tensor, global_step: int,
                       last_layer: Optional[torch.Tensor] = None,
                       clip_loss: Optional[torch.Tensor] = None) -> tuple[torch.Tensor, dict[str, float]]:
        l_rec = reconstruction_loss(x, x_rec)
        eta = adopt_weight(self.eta, global_step, self.disc_start)
        if eta > 0:
            g_loss = hinge_g_loss(self.discriminator(x_rec))
            if self.adaptive and last_layer is not None and torch.is_grad_enabled():
                d_weight = calculate_adaptive_weight(l_rec, g_loss, last_layer, eta)
            else:
                d_weight = torch.tensor(eta)
        else:
            g_loss, d_weight = torch.zeros((), device=x.device), torch.zeros((), device=x.device)
        l_clip = clip_loss if clip_loss is not None else torch.zeros((), device=x.device)
        # eq. 14 with eta = eta_base * adaptive weight (taming's d_weight * disc_factor)
        loss = total_loss(l_rec, vq_loss, g_loss, l_clip, beta=self.beta, eta=d_weight, lam=self.lam)
        log = {"loss": float(loss.detach()), "rec": float(l_rec.detach()), "vq": float(vq_loss.detach()),
               "g": float(g_loss.detach()), "d_weight": float(d_weight), "clip": float(l_clip.detach())}
        return loss, log

    def discriminator_loss(self, x: torch.Tensor, x_rec: torch.Tensor,
                           global_step: int) -> tuple[torch.Tensor, dict[str, float]]:
        factor = adopt_weight(1.0, global_step, self.disc_start)
        logits_real = self.discriminator(x.detach())
        logits_fake = self.discriminator(x_rec.detach())
        d_loss = factor * hinge_d_loss(logits_real, logits_fake)
        return d_loss, {"d_loss": float(d_loss.detach()), "logits_real": float(logits_real.mean().detach()),
                        "logits_fake": float(logits_fake.mean().detach())}
