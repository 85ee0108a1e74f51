"""inkgen: a re-executable study of text-to-Chinese-painting generation (MTDIG-TIGIVM-CLIP).

Importing the package first makes the CPU build of torchvision importable (see ``_torchvision_compat``),
because open_clip and the curation classifier import torchvision.
"""

from inkgen._torchvision_compat import ensure_torchvision_importable

ensure_torchvision_importable()

__version__ = "0.1.0"
