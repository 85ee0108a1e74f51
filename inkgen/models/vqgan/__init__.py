"""The improved VQGAN of MTDIG-TIGIVM-CLIP (paper section 2.2, eqs. 6-10), based on
taming-transformers' VQModel (Esser et al. 2021); ablation variants are flags of ``VQGANConfig``."""

from inkgen.models.vqgan.config import VQGANConfig
from inkgen.models.vqgan.discriminator import (NLayerDiscriminator, adopt_weight, calculate_adaptive_weight,
                                               hinge_d_loss, hinge_g_loss)
from inkgen.models.vqgan.losses import VQGANLoss, reconstruction_loss, total_loss
from inkgen.models.vqgan.model import VQGAN, VQGANOutput
from inkgen.models.vqgan.quantizer import (DualCodebookQuantizer, SingleQuantizer, VectorQuantizer,
                                           corrected_vq_loss, legacy_vq_loss)

__all__ = ["DualCodebookQuantizer", "NLayerDiscriminator", "SingleQuantizer", "VQGAN",
           "VQGANConfig", "VQGANLoss", "VQGANOutput", "VectorQuantizer", "adopt_weight",
           "calculate_adaptive_weight", "corrected_vq_loss", "hinge_d_loss", "hinge_g_loss", "legacy_vq_loss",
           "reconstruction_loss", "total_loss"]
