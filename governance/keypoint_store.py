"""SIFT keypoints of reference images kept on disk, so that a cold process does not detect them again.

Stage two of copy matching (:mod:`governance.copy_verify`) verifies every candidate — 32 training images per
generated painting under the shipped policy — and detecting SIFT keypoints on a reference (Lowe 2004) is
most of its cost: ~0.7 CPU-seconds of a cold ``inkgen generate``, for references that never change. The
keypoints of a reference depend only on its image file and on the code and library that detect them, so
each is stored under the SHA-256 of

- the image file's bytes,
- the source of :mod:`governance.copy_verify` (``WORK_SIDE``, the detector's settings) and of this module,
- the OpenCV, Pillow and numpy versions,

as ``sift/<key>.npz`` in the governance cache folder (:func:`governance.cache.cache_dir`). An entry
is numbers only (``numpy.load(allow_pickle=False)``: loading never executes code) — the keypoint
coordinates (float32), the descriptors (uint8 when OpenCV's float32 descriptors are whole numbers in 0-255,
as SIFT's are, so they convert back exactly; float32 otherwise), its key and the SHA-256 of its arrays. An
entry whose key or digest does not check, or that does not read, is detected afresh and rewritten; what is
stored is exactly what the detector returned, so verdicts are the same with or without the store.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from governance.cache import cache_dir

FORMAT = 1
_HERE = Path(__file__).resolve().parent

Keypoints = tuple[np.ndarray, "np.ndarray | None"]  # (n x 2 float32 points, n x 128 float32 descriptors)


class StoreError(ValueError):
    """An entry that cannot be used; the reason says why."""


@lru_cache(maxsize=1)
def _code_key() -> bytes:
    import PIL  # local: the key's versions (cv2 is loaded by the caller, governance.copy_verify, already)
    import cv2

    h = hashlib.sha256(f"inkgen-governance-sift/{FORMAT}/{cv2.__version__}/{PIL.__version__}/{np.__version__}".encode())
    for name in ("copy_verify.py", "keypoint_store.py"):
        h.update((_HERE / name).read_bytes())
    return h.digest()


def entry_key(image_file: str | os.PathLike[str]) -> str:
    return hashlib.sha256(_code_key() + Path(image_file).read_bytes()).hexdigest()


def _digest(key: str, arrays: dict[str, np.ndarray]) -> np.ndarray:
    h = hashlib.sha256(key.encode())
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"\0{name}\0{a.dtype.str}\0{a.shape}\0".encode())
        h.update(a.tobytes())
    return np.frombuffer(h.digest(), dtype=np.uint8)


def _encode(kp: Keypoints) -> dict[str, np.ndarray]:
    points, desc = kp
    out = {"points": np.asarray(points, dtype=np.float32)}
    if desc is not None:
        small = desc.astype(np.uint8)
        exact = desc.dtype == np.float32 and np.array_equal(small.astype(np.float32), desc)
        out["desc_u8" if exact else "desc_f32"] = small if exact else np.asarray(desc, dtype=np.float32)
    return out


def read_entry(path: Path, key: str) -> Keypoints:
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        raise StoreError(f"{path}: unreadable ({exc})") from None
    stored_key, digest = data.pop("key", None), data.pop("digest", None)
    if stored_key is None or bytes(stored_key.astype(np.uint8)).decode("ascii", "replace") != key:
        raise StoreError(f"{path}: not the entry of this image and code")
    if digest is None or not np.array_equal(digest, _digest(key, data)):
        raise StoreError(f"{path}: its arrays' SHA-256 does not match the one recorded (edited or corrupt)")
    points = data.get("points")
    descs = [data[k] for k in ("desc_u8", "desc_f32") if k in data]
    if points is None or points.dtype != np.float32 or points.ndim != 2 or points.shape[1] != 2 or len(descs) > 1 \
            or set(data) - {"points", "desc_u8", "desc_f32"}:
        raise StoreError(f"{path}: not a keypoint entry")
    desc = descs[0].astype(np.float32) if descs else None
    if desc is not None and (desc.ndim != 2 or len(desc) != len(points)):
        raise StoreError(f"{path}: descriptors do not match the keypoints")
    return points, desc


def write_entry(path: Path, key: str, kp: Keypoints) -> None:
    arrays = _encode(kp)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.stem, suffix=".npz", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, key=np.frombuffer(key.encode("ascii"), dtype=np.uint8), digest=_digest(key, arrays), **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def keypoints(image_file: str | os.PathLike[str] | None, compute: Callable[[], Keypoints]) -> Keypoints:
    """The keypoints of the reference in ``image_file``: stored ones when valid, else ``compute()`` (stored).
    Without a file or a cache folder: ``compute()``."""
    folder = cache_dir()
    if image_file is None or folder is None:
        return compute()
    try:
        key = entry_key(image_file)
    except OSError:
        return compute()
    path = folder / "sift" / f"{key[:32]}.npz"
    if path.is_file():
        try:
            return read_entry(path, key)
        except StoreError:
            pass  # detected afresh and rewritten below
    kp = compute()
    try:
        write_entry(path, key, kp)
    except OSError:
        pass  # a read-only cache folder costs speed, never correctness
    return kp
