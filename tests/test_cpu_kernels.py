"""Importing inkgen caps torch's CPU kernels (inkgen._cpu_kernels), so that a run gives the same bytes on every
AVX-512 processor; the environment's own value wins."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

CONV = ("import inkgen, os, torch\n"
        "with torch.backends.mkldnn.verbose(torch.backends.mkldnn.VERBOSE_ON):\n"
        "    torch.nn.functional.conv2d(torch.randn(8, 32, 16, 16), torch.randn(32, 32, 3, 3))\n"
        "print('CAPS', os.environ['ONEDNN_MAX_CPU_ISA'], os.environ['MKL_CBWR'])\n")


def _run(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in ("ONEDNN_MAX_CPU_ISA", "MKL_CBWR")}
    out = subprocess.run([sys.executable, "-c", CONV], env={**clean, **env}, capture_output=True, text=True,
                         timeout=120, check=True)
    return out.stdout + out.stderr


def _isa(log: str) -> str:
    lines = [line for line in log.splitlines() if ",cpu,isa:" in line]
    if not lines:
        pytest.skip("this torch build does not report oneDNN's instruction set")
    return lines[0].split("isa:", 1)[1]


def test_importing_inkgen_caps_onednn_and_mkl_at_avx512_core():
    log = _run()
    assert "CAPS AVX512_CORE AVX512" in log
    isa = _isa(log)
    # the newer extensions a processor may have are never used: every AVX-512 machine takes the same code
    assert not any(newer in isa for newer in ("AMX", "AVX10", "VNNI", "bfloat16", "FP16")), isa


def test_the_environment_overrides_the_cap():
    log = _run(ONEDNN_MAX_CPU_ISA="AVX2", MKL_CBWR="AUTO")
    assert "CAPS AVX2 AUTO" in log
    assert "AVX-512" not in _isa(log)


def test_make_exports_the_caps_for_every_process_it_starts(repo_root):
    """MKL reads MKL_CBWR from the environment a process starts with: `make study` / `make test` export it."""
    from inkgen._cpu_kernels import CAPS

    makefile = (repo_root / "Makefile").read_text(encoding="utf-8")
    for name, value in CAPS.items():
        assert f"export {name} ?= {value}\n" in makefile
