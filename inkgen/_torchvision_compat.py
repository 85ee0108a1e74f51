"""Make the PyPI torchvision 0.28.0 wheel importable on a CPU-only torch.

The wheel on PyPI is a CUDA build; on ``torch==2.13.0+cpu`` its compiled ops library does not load, and
``import torchvision`` then fails in ``torchvision/_meta_registrations.py`` with
``operator torchvision::nms does not exist`` (pytorch/vision#9085), because that module registers fake
kernels for ops whose schemas were never defined.

Defining the schemas (copied from torchvision's C++ ``TORCH_LIBRARY_FRAGMENT`` declarations) on a
``torch.library.Library("torchvision", "FRAGMENT")`` *before* torchvision is imported lets the import go
through. Models and transforms then work; ``torchvision.ops`` and ``torchvision.io`` have no kernels and
must not be used. The fix is applied only when ``torch.version.cuda is None`` and only if the compiled
library did not define the ops itself, so a working CUDA install is left untouched.

``install_import_hook`` defers all of this (and the torch import it needs) until something actually imports
torchvision, so that ``import inkgen`` stays cheap — the procedural renderer's worker processes never
pay for torch.
"""

from __future__ import annotations

import importlib.abc
import sys

_SCHEMAS = (
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "roi_align(Tensor input, Tensor rois, float spatial_scale, SymInt pooled_height, SymInt pooled_width, "
    "int sampling_ratio, bool aligned) -> Tensor",
    "_roi_align_backward(Tensor grad, Tensor rois, float spatial_scale, SymInt pooled_height, "
    "SymInt pooled_width, SymInt batch_size, SymInt channels, SymInt height, SymInt width, "
    "int sampling_ratio, bool aligned) -> Tensor",
    "qroi_align(Tensor input, Tensor rois, float input_scale, int input_zero_point, float rois_scale, "
    "int rois_zero_point, float spatial_scale, SymInt pooled_height, SymInt pooled_width, "
    "int sampling_ratio, bool aligned) -> Tensor",
    "ps_roi_align(Tensor input, Tensor rois, float spatial_scale, SymInt pooled_height, "
    "SymInt pooled_width, int sampling_ratio) -> (Tensor, Tensor)",
    "_ps_roi_align_backward(Tensor grad, Tensor rois, Tensor channel_mapping, float spatial_scale, "
    "SymInt pooled_height, SymInt pooled_width, int sampling_ratio, SymInt batch_size, SymInt channels, "
    "SymInt height, SymInt width) -> Tensor",
    "roi_pool(Tensor input, Tensor rois, float spatial_scale, SymInt pooled_height, "
    "SymInt pooled_width) -> (Tensor, Tensor)",
    "_roi_pool_backward(Tensor grad, Tensor rois, Tensor argmax, float spatial_scale, SymInt pooled_height, "
    "SymInt pooled_width, SymInt batch_size, SymInt channels, SymInt height, SymInt width) -> Tensor",
    "ps_roi_pool(Tensor input, Tensor rois, float spatial_scale, SymInt pooled_height, "
    "SymInt pooled_width) -> (Tensor, Tensor)",
    "_ps_roi_pool_backward(Tensor grad, Tensor rois, Tensor channel_mapping, float spatial_scale, "
    "SymInt pooled_height, SymInt pooled_width, SymInt batch_size, SymInt channels, SymInt height, "
    "SymInt width) -> Tensor",
    "deform_conv2d(Tensor input, Tensor weight, Tensor offset, Tensor mask, Tensor bias, SymInt stride_h, "
    "SymInt stride_w, SymInt pad_h, SymInt pad_w, SymInt dilation_h, SymInt dilation_w, SymInt groups, "
    "SymInt offset_groups, bool use_mask) -> Tensor",
    "_deform_conv2d_backward(Tensor grad, Tensor input, Tensor weight, Tensor offset, Tensor mask, "
    "Tensor bias, SymInt stride_h, SymInt stride_w, SymInt pad_h, SymInt pad_w, SymInt dilation_h, "
    "SymInt dilation_w, SymInt groups, SymInt offset_groups, bool use_mask) -> "
    "(Tensor, Tensor, Tensor, Tensor, Tensor)",
)

_library = None  # the torch.library.Library, kept alive: its definitions vanish with it


def _op_exists(name: str) -> bool:
    import torch  # only when needed: `import inkgen` stays cheap (module docstring)

    return torch._C._dispatch_has_kernel(f"torchvision::{name}") or bool(
        torch._C._jit_get_operation(f"torchvision::{name}")[0]
    )


def ensure_torchvision_importable() -> bool:
    """Define torchvision's op schemas on a CPU-only torch; return True if it had to."""
    global _library
    import torch  # only when needed: `import inkgen` stays cheap (module docstring)

    if torch.version.cuda is not None or "torchvision" in sys.modules or _library is not None:
        return False
    missing = [s for s in _SCHEMAS if not _op_exists(s.split("(", 1)[0])]
    if not missing:
        return False
    _library = torch.library.Library("torchvision", "FRAGMENT")
    for schema in missing:
        _library.define(schema)
    return True


class _TorchvisionHook(importlib.abc.MetaPathFinder):
    """Runs the fix just before the first ``import torchvision``, then steps aside for the real finders."""

    def find_spec(self, fullname, path=None, target=None):  # noqa: D401 (importlib protocol)
        if fullname == "torchvision":
            sys.meta_path.remove(self)
            ensure_torchvision_importable()
        return None


def install_import_hook() -> None:
    """Apply the fix lazily, at the first import of torchvision (idempotent)."""
    if "torchvision" in sys.modules or any(isinstance(f, _TorchvisionHook) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _TorchvisionHook())
