"""64-bit perceptual hashes (pHash) of images and of their mirrored variants.

Paper section 6.2, *ownership attribution*: to "cross-reference training samples against the National
Copyright Database" the corpus, the registry and every output are reduced to perceptual hashes. The hash
is ``imagehash.phash`` (Zauner 2010, "Implementation and Benchmarking of Perceptual Image Hash Functions"):
grey 32×32, 2-D DCT, the 8×8 lowest frequencies compared with their median — 64 bits, stable under
scaling, JPEG and small colour changes, compared by Hamming distance. It is the same hash the study's split
uses, stored the same way (16 hex digits), so a training manifest's ``phash`` column can be used directly.

pHash is not mirror-invariant (a horizontal flip negates the odd horizontal DCT frequencies, which moves
the median comparison), and a mirrored copy is a copy. So a query is hashed in several *variants* —
``original``, ``hflip`` and optionally ``vflip`` — and a match is the smallest distance over them. A
registry stores only the original orientation: flipping the query covers a flipped copy.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable, Mapping

import imagehash
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

_HEX = re.compile(r"^[0-9a-fA-F]{16}$")
_VARIANT_OPS = {
    "original": lambda img: img,
    "hflip": ImageOps.mirror,
    "vflip": ImageOps.flip,
}
#: PIL's decompression-bomb guard, applied explicitly: a hostile image must not exhaust memory here.
MAX_PIXELS = 200_000_000


class ImageHashError(ValueError):
    """An image that cannot be hashed, or a hash string that is not 16 hex digits; names the item."""


_HASH, _SIZE = 8, 32  # imagehash.phash's defaults: hash_size 8, highfreq_factor 4
#: The DCT-II basis of scipy.fftpack.dct (type 2, unnormalised: y[k] = 2 sum_n x[n] cos(pi k (2n+1) / 2N)),
#: first 8 frequencies over 32 samples: the 8x8 low-frequency block is C @ X @ C.T.
_BASIS = 2.0 * np.cos(np.pi * np.arange(_HASH)[:, None] * (2 * np.arange(_SIZE)[None, :] + 1) / (2 * _SIZE))
#: Relative bound on the difference between this DCT and scipy's FFT-based one (both float64; the real
#: difference is ~1e-13 relative, this leaves a margin of ~1000x): a coefficient nearer the median than this
#: could compare the other way there, so such an image is hashed by imagehash itself.
_TIE = 1e-10


def phash(image: Image.Image) -> int:
    """The 64-bit pHash of ``image`` as an int, bit-identical to ``imagehash.phash`` (bit order as its hex
    string): grey, Lanczos to 32x32, 2-D DCT-II, the 8x8 lowest frequencies against their median.

    The DCT is a matrix product in numpy rather than scipy.fftpack's (scipy's import alone costs a cold
    ``inkgen generate`` ~0.3 s). The two agree to rounding, so a bit can only differ where a coefficient lies
    within rounding of the median (a flat or exactly symmetric image); then imagehash computes it."""
    pixels = np.asarray(image.convert("L").resize((_SIZE, _SIZE), imagehash.ANTIALIAS), dtype=np.float64)
    low = _BASIS @ pixels @ _BASIS.T
    med = np.median(low)
    if np.min(np.abs(low - med)) <= _TIE * (4.0 * float(np.abs(pixels).sum()) + 1.0):
        return int(str(imagehash.phash(image)), 16)
    bits = (low > med).ravel()
    return int("".join("1" if b else "0" for b in bits), 2)


def variant_hashes(image: Image.Image, variants: Iterable[str]) -> dict[str, int]:
    """``{variant: pHash}`` for each requested variant of ``image``."""
    out = {}
    for v in variants:
        if v not in _VARIANT_OPS:
            raise ImageHashError(f"unknown image variant {v!r} (known: {', '.join(_VARIANT_OPS)})")
        out[v] = phash(_VARIANT_OPS[v](image))
    return out


def open_image(path: str | os.PathLike[str]) -> Image.Image:
    """Open and fully decode an image, or raise ImageHashError naming the file and the reason."""
    try:
        with Image.open(path) as img:
            if img.width * img.height > MAX_PIXELS:
                raise ImageHashError(f"{path}: {img.width}x{img.height} exceeds {MAX_PIXELS} pixels")
            img.load()
            return img.copy()
    except FileNotFoundError:
        raise ImageHashError(f"{path}: no such file") from None
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise ImageHashError(f"{path}: cannot read as an image ({exc})") from None


def hash_file(path: str | os.PathLike[str], variants: Iterable[str]) -> dict[str, int]:
    return variant_hashes(open_image(path), variants)


def to_hex(value: int) -> str:
    return f"{int(value):016x}"


def parse_hash(text: str | int, where: str) -> int:
    """A 64-bit hash from 16 hex digits (or an int in range); anything else is an error naming ``where``."""
    if isinstance(text, (int, np.integer)) and not isinstance(text, bool):
        if 0 <= int(text) < 2**64:
            return int(text)
        raise ImageHashError(f"{where}: {text} is not a 64-bit unsigned value")
    if not isinstance(text, str) or not _HEX.match(text.strip()):
        raise ImageHashError(f"{where}: {text!r} is not 16 hexadecimal digits")
    return int(text.strip(), 16)


def hash_array(values: Iterable[int]) -> np.ndarray:
    return np.fromiter((int(v) for v in values), dtype=np.uint64)


def hash_folder(folder: str | os.PathLike[str], variants: Iterable[str],
                suffixes: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp")
                ) -> dict[str, dict[str, int]]:
    """``{relative path: {variant: hash}}`` for every image under ``folder`` (sorted)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ImageHashError(f"{folder}: not a folder")
    variants = tuple(variants)
    return {p.relative_to(folder).as_posix(): hash_file(p, variants)
            for p in sorted(folder.rglob("*")) if p.suffix.lower() in suffixes and p.is_file()}


def min_distance(query: Mapping[str, int], target: int) -> tuple[int, str]:
    """Smallest Hamming distance from any variant of a query to ``target``, with that variant."""
    best = min(query.items(), key=lambda kv: (bin(kv[1] ^ target).count("1"), kv[0] != "original"))
    return bin(best[1] ^ target).count("1"), best[0]
