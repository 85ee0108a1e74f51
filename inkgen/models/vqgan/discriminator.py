"""PatchGAN discriminator and GAN loss pieces, as in taming-transformers (Esser et al. 2021).

* ``NLayerDiscriminator``: pix2pix's PatchGAN (conv 4x4 stride 2 stack, BatchNorm, LeakyReLU 0.2,
  one logit per patch), taming's ``taming/modules/discriminator/model.py`` with its ``weights_init``.
* ``hinge_d_loss``: ``0.5 * (mean(relu(1 - D(x))) + mean(relu(1 + D(x_rec))))``; the generator's
  adversarial loss is ``-mean(D(x_rec))``.
* ``calculate_adaptive_weight``: taming's ``lambda = ||grad_last L_rec|| / (||grad_last L_GAN|| + 1e-4)``,
  clamped to [0, 1e4] and detached, where ``last`` is the decoder's last layer weight.
* ``adopt_weight``: the discriminator start step (weight 0 before ``threshold``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def weights_init(m: nn.Module) -> None:
    if isinstance(m, nn.Conv2d):
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.constant_(m.bias, 0)


class NLayerDiscriminator(nn.Module):
    def __init__(self, in_channels: int = 3, ndf: int = 64, n_layers: int = 3):
        super().__init__()
        kw, pad = 4, 1
        seq: list[nn.Module] = [nn.Conv2d(in_channels, ndf, kw, 2, pad), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, n_layers):
            prev, mult = mult, min(2 ** n, 8)
            seq += [nn.Conv2d(ndf * prev, ndf * mult, kw, 2, pad, bias=False), nn.BatchNorm2d(ndf * mult),
                    nn.LeakyReLU(0.2, True)]
        prev, mult = mult, min(2 ** n_layers, 8)
        seq += [nn.Conv2d(ndf * prev, ndf * mult, kw, 1, pad, bias=False), nn.BatchNorm2d(ndf * mult),
                nn.LeakyReLU(0.2, True), nn.Conv2d(ndf * mult, 1, kw, 1, pad)]
        self.main = nn.Sequential(*seq)
        self.apply(weights_init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x)                                   # (B, 1, patches_h, patches_w) logits


def hinge_d_loss(logits_real: torch.Tensor, logits_fake: torch.Tensor) -> torch.Tensor:
    return 0.5 * (torch.mean(F.relu(1.0 - logits_real)) + torch.mean(F.relu(1.0 + logits_fake)))


def hinge_g_loss(logits_fake: torch.Tensor) -> torch.Tensor:
    return -torch.mean(logits_fake)


def adopt_weight(weight: float, global_step: int, threshold: int = 0, value: float = 0.0) -> float:
    return value if global_step < threshold else weight


def calculate_adaptive_weight(rec_loss: torch.Tensor, g_loss: torch.Tensor, last_layer: torch.Tensor,
                              disc_weight: float = 1.0) -> torch.Tensor:
    rec_grads = torch.autograd.grad(rec_loss, last_layer, retain_graph=True)[0]
    g_grads = torch.autograd.grad(g_loss, last_layer, retain_graph=True)[0]
    w = torch.norm(rec_grads) / (torch.norm(g_grads) + 1e-4)
    return torch.clamp(w, 0.0, 1e4).detach() * disc_weight
