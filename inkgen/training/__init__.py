"""Training MTDIG-TIGIVM-CLIP: phase 1 trains the improved VQGAN with eq. 14 (CLIP-guided), phase 2 the
Transformer stacked decoder (eq. 11) that predicts the VQGAN's codes from BERT text features.

Modules: ``config`` (VQGANRun, PriorRun: one run config per phase; device, mixed precision, determinism), ``features`` (text features
computed once), ``loop`` (resumable epoch loop), ``checkpoint``, ``convergence`` (the paper's convergence
rounds), ``vqgan_phase``, ``prior_phase``, ``distributed`` (DDP under torchrun: sharding, wrapping, rank-0 writes).
"""

from inkgen.training.checkpoint import (CHECKPOINT_FORMAT, CheckpointError, checkpoint_path, file_sha256,
                                        load_checkpoint, save_checkpoint)
from inkgen.training.config import (PriorRun, TrainError, VQGANRun, autocast_dtype, effective_lambda,
                                    resolve_device, uses_alignment)
from inkgen.training.convergence import convergence_epoch, smoothed
from inkgen.training.features import (FineTunedTextFeatures, PhaseData, TextFeatures, clip_text_features,
                                      encode_captions)
from inkgen.training.loop import epoch_order
from inkgen.training.prior_phase import (code_streams, encode_codes, evaluate_prior, load_snapshot, load_trained,
                                         prior_config, snapshot_path, train_prior)
from inkgen.training.vqgan_phase import TrainResult, evaluate_vqgan, generator_objective, train_vqgan

__all__ = ["CHECKPOINT_FORMAT", "CheckpointError", "FineTunedTextFeatures", "PhaseData", "PriorRun", "TextFeatures", "VQGANRun",
           "TrainError", "TrainResult", "autocast_dtype", "checkpoint_path", "clip_text_features",
           "code_streams", "convergence_epoch", "effective_lambda", "encode_captions", "encode_codes",
           "epoch_order", "evaluate_prior", "evaluate_vqgan", "file_sha256", "generator_objective",
           "load_checkpoint", "load_snapshot", "load_trained", "prior_config", "resolve_device",
           "save_checkpoint", "smoothed", "snapshot_path", "train_prior", "train_vqgan", "uses_alignment"]
