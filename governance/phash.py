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


def phash(image: Image.Image) -> int:
    """The 64-bit pHash of ``image`` as an int (bit order as imagehash's hex string)."""
    return int(str(imagehash.phash(image)), 16)


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
