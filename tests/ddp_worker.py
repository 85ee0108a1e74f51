"""What each of the 2 torchrun processes of tests/test_distributed.py runs (gloo on loopback, 1 thread each).

Usage: ``python -m torch.distributed.run --standalone --nproc_per_node 2 -m ddp_worker OUT`` from tests/.
Every rank trains the tiny models through the library's own phases and records, under OUT:
``rank<r>.pt`` (its final weights, to show the ranks agree) and ``writes-rank<r>.json`` (every checkpoint it
saved). Runs, all with global batch 8 = 2 ranks x 4:

* ``plain``: VQGAN (GAN off: disc_start past the end, so no BatchNorm / adaptive weight; dead-code
  re-initialisation ON) for 2 epochs, then the prior on it; checkpoints every step.
* ``resumed``: the same VQGAN run killed after step 3 (``stop_after_steps``, nothing saved after the last
  checkpoint), then resumed from its checkpoint to the end.
* ``gan``: the VQGAN with the GAN on from step 0 (trains; compared with one process only for the record).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

from inkgen.models.vqgan.config import VQGANConfig
from inkgen.training import PhaseData, distributed, prior_config, prior_phase, train_prior, train_vqgan, vqgan_phase

from test_train import cfg, data, pcfg
from tiny_models import HASH, TINY
from inkgen import variants

N_IMAGES, GLOBAL_BATCH = 16, 8
PRIOR = dict(d_model=16, n_layers=1, n_heads=2, dropout=0.0, mlp_ratio=2)


def config(**kw):
    """The phase-1 run shared by test_distributed.py's single-process reference (global batch = batch_size)."""
    base = dict(variant="full", lambda_clip=0.0, disc_start=10_000, epochs=2, batch_size=GLOBAL_BATCH,
                checkpoint_every=1, threads=1)
    return cfg(**{**base, **kw})


def prior_run(**kw):
    """The phase-2 run of the same reference."""
    return pcfg(**{**dict(variant="full", epochs=2, batch_size=GLOBAL_BATCH, checkpoint_every=1, threads=1), **kw})


def vq_config() -> VQGANConfig:
    return VQGANConfig.with_flags(variants.variant("full").vqgan, **TINY)


def main(out: Path) -> None:
    w = distributed.init_from_env("cpu")
    torch.set_num_threads(1)
    writes: list[str] = []
    real = vqgan_phase.save_checkpoint

    def recording(path, payload):
        writes.append(str(Path(path).relative_to(out)))
        return real(path, payload)

    vqgan_phase.save_checkpoint = prior_phase.save_checkpoint = recording
    x, captions, text = data(N_IMAGES)
    try:
        plain = train_vqgan(config(), vq_config(), PhaseData(x, text, captions), params_hash=HASH,
                            checkpoint_dir=out / "plain", progress=False)
        prior = train_prior(prior_run(), plain.model, prior_config(plain.model, text.dim, "full", **PRIOR),
                            PhaseData(x, text), params_hash=HASH, checkpoint_dir=out / "plain", progress=False)
        torch.distributed.barrier()  # a finished run's last checkpoint is on disk before anyone reads it
        cut = train_vqgan(config(), vq_config(), PhaseData(x, text, captions), params_hash=HASH,
                          checkpoint_dir=out / "resumed", progress=False, stop_after_steps=3)
        torch.distributed.barrier()  # as after a real interruption: rank 0 saved step 3 before the relaunch
        resumed = train_vqgan(config(), vq_config(), PhaseData(x, text, captions), params_hash=HASH,
                              checkpoint_dir=out / "resumed", resume=True, progress=False)
        gan = train_vqgan(config(disc_start=0, epochs=1), vq_config(), PhaseData(x, text, captions),
                          params_hash=HASH, progress=False)
        torch.save({"world": w.size, "plain": plain.model.state_dict(), "prior": prior.model.state_dict(),
                    "cut_steps": cut.steps, "cut_complete": cut.complete, "resumed": resumed.model.state_dict(),
                    "gan": gan.model.state_dict(), "history": plain.history, "prior_history": prior.history,
                    "reinit": {k: int(q.n_reinit) for k, q in plain.model.codebooks().items()}},
                   out / f"rank{w.rank}.pt")
        (out / f"writes-rank{w.rank}.json").write_text(json.dumps(writes))
    finally:
        distributed.shutdown()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
