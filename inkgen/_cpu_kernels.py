"""The same CPU kernels on every AVX-512 machine, so that a checkpoint's bytes do not depend on the processor.

torch's convolutions (oneDNN) and matrix products (MKL) choose their code by the processor's instruction set:
a newer x86 processor (AVX-512 with VNNI, BF16, FP16, AMX: Sapphire Rapids and later) takes other kernels
than an AVX-512 Skylake-class one, and they sum in another order. Measured: the committed run of the study,
made on one machine, did not re-execute bit-exactly on an AMX machine (the curation classifier and, from it,
the whole curated corpus came out different); with MKL capped (``MKL_CBWR=AVX512``) it did, byte for byte
(``classifier.pt``, ``data/curated``), and with both libraries capped at AVX2 it gave a third result. A
processor without AVX-512 takes its own (AVX2) code and its own bytes.

MKL reads ``MKL_CBWR`` from the environment the process *started* with (setting it from Python before torch
is imported did not change the classifier's bytes: measured), so it must come from outside: ``make study`` and
``make test`` export both variables (Makefile); run ``dvc repro`` by hand with them exported. :func:`pin` sets
them too, for oneDNN (which reads its variable when it first runs: tests/test_cpu_kernels.py) and for the
processes this one starts (torchrun workers, DataLoader workers). A value already in the environment wins, so
``ONEDNN_MAX_CPU_ISA=ALL MKL_CBWR=AUTO`` compares against the processor's own kernels.
"""

from __future__ import annotations

import os

# oneDNN: https://oneapi-src.github.io/oneDNN/dev_guide_cpu_dispatcher_control.html
# MKL conditional numerical reproducibility (read at process start): an unsupported branch falls back to the
# processor's own code
CAPS = {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE", "MKL_CBWR": "AVX512"}


def pin() -> dict[str, str]:
    """Cap oneDNN and MKL at AVX-512 core unless the environment says otherwise; the values in force."""
    for name, value in CAPS.items():
        os.environ.setdefault(name, value)
    return {name: os.environ[name] for name in CAPS}
