"""inkgen: a re-executable study of text-to-Chinese-painting generation (MTDIG-TIGIVM-CLIP).

Importing the package caps torch's CPU kernels at AVX-512 core, so that a run gives the same bytes on every
AVX-512 processor (``_cpu_kernels``), and arranges for the CPU build of torchvision to become importable (see
``_torchvision_compat``) the moment anything — open_clip, the curation classifier — imports it.
"""

import warnings

from inkgen import _cpu_kernels
from inkgen._torchvision_compat import install_import_hook

_cpu_kernels.pin()  # first: before torch computes anything in this process

# Libraries the stages use import tqdm.auto, which inside a Jupyter kernel without ipywidgets warns "IProgress
# not found" (with the venv's absolute path) into every executed notebook; inkgen's own progress goes to the
# terminal (inkgen.progress), so the notebook bar it falls back from is not wanted anyway.
warnings.filterwarnings("ignore", message="IProgress not found")

install_import_hook()

__version__ = "0.1.0"
