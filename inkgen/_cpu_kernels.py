"""The same CPU kernels on every AVX-512 machine, so that a checkpoint's bytes do not depend on the processor.

torch's convolutions (oneDNN) and matrix products (MKL) choose their code by the processor's instruction set:
a newer x86 processor (AVX-512 with VNNI, BF16, FP16, AMX: Sapphire Rapids and later) takes other kernels
than an AVX-512 Skylake-class one, and they sum in another order. Measured: the committed run of the study,
made on one machine, did not re-execute bit-exactly on an AMX machine (the curation classifier and, from it,
the whole curated corpus came out different); with both libraries capped at AVX-512 core it did, byte for
byte (``classifier.pt``, ``data/curated``). A processor without AVX-512 takes its own (AVX2) code and its own
bytes; the cap costs nothing measurable here (curate: 127 s capped, 184-190 s with AVX2 caps, on 2 cores).

:func:`pin` sets the caps in this process's environment (inherited by the torchrun workers and any child);
it must run before torch first computes, which importing ``inkgen`` first arranges. A value already in the
environment wins, so ``ONEDNN_MAX_CPU_ISA=ALL MKL_CBWR=AUTO`` compares against the processor's own kernels.
"""

from __future__ import annotations

import os

# oneDNN: https://oneapi-src.github.io/oneDNN/dev_guide_cpu_dispatcher_control.html
# MKL conditional numerical reproducibility: an unsupported branch falls back to the processor's own code
CAPS = {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE", "MKL_CBWR": "AVX512"}


def pin() -> dict[str, str]:
    """Cap oneDNN and MKL at AVX-512 core unless the environment says otherwise; the values in force."""
    for name, value in CAPS.items():
        os.environ.setdefault(name, value)
    return {name: os.environ[name] for name in CAPS}
