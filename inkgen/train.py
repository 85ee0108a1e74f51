"""The training loop of MTDIG-TIGIVM-CLIP (eq. 14 for the VQGAN, teacher forcing for the text -> codes
Transformer); the implementation lives in :mod:`inkgen.training`, this module is its public face."""

from inkgen.training import *  # noqa: F401,F403
from inkgen.training import __all__  # noqa: F401
