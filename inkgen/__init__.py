"""inkgen: a re-executable study of text-to-Chinese-painting generation (MTDIG-TIGIVM-CLIP).

Importing the package arranges for the CPU build of torchvision to become importable (see
``_torchvision_compat``) the moment anything — open_clip, the curation classifier — imports it.
"""

from inkgen._torchvision_compat import install_import_hook

install_import_hook()

__version__ = "0.1.0"
