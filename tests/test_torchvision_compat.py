"""The CPU-torch fix for the CUDA-built torchvision wheel lives in code (pytorch/vision#9085)."""

from __future__ import annotations

import subprocess
import sys


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


def test_import_inkgen_is_cheap_and_makes_torchvision_usable():
    proc = _python(
        "import sys, inkgen\n"
        "assert 'torch' not in sys.modules, 'import inkgen must not import torch'\n"
        "import torch, torchvision\n"
        "model = torchvision.models.resnet18(num_classes=3).eval()\n"
        "print(tuple(model(torch.zeros(1, 3, 32, 32)).shape))\n"
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "(1, 3)"


def test_the_fix_is_what_makes_the_difference():
    """Without it, torchvision fails to import on a CPU torch whenever its compiled ops do not load."""
    proc = _python(
        "import torch\n"
        "try:\n"
        "    import torchvision\n"
        "    print('importable', torch.version.cuda, torchvision.extension._has_ops())\n"
        "except RuntimeError as exc:\n"
        "    print('broken', exc)\n"
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    words = proc.stdout.split()
    if words[0] == "broken":
        assert "torchvision::nms does not exist" in proc.stdout
    else:  # a matching torchvision build: then the fix must have nothing to do
        assert words[0] == "importable"
        assert not (words[1] == "None" and words[2] == "False"), "ops missing yet import worked: check the test"
