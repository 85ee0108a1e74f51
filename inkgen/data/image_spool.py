"""A disk-backed sequence of equal-shape uint8 images, so that a stage never holds a corpus in memory.

The curate stage needs every item's two small views (eq. 2-5 crop, whole painting letterboxed) twice:
to train the classifier on the labelled ones and to judge them all. Holding them in RAM grows with the
corpus (the paper's 15,000 paintings); an :class:`ImageSpool` appends each view to one flat file and
reads back only what a batch asks for, with ``os.pread`` (no memory map: mapped pages would count in
the process's resident memory as they are touched). It is a ``Sequence``: ``spool[i]`` is an image,
``spool[i:j]`` a list, and :meth:`subset` a lazy view on chosen positions.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, overload

import numpy as np


class ImageSpool(Sequence):
    """Append-only store of ``shape`` uint8 arrays in ``path`` (created empty; removed by ``close``)."""

    def __init__(self, path: str | Path, shape: tuple[int, ...]):
        self.path, self.shape = Path(path), tuple(shape)
        self.itemsize = int(np.prod(self.shape))
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        self._n = 0

    def append(self, image: np.ndarray) -> int:
        if image.shape != self.shape or image.dtype != np.uint8:
            raise ValueError(f"image spool of {self.shape} uint8 got {image.dtype} {image.shape}")
        os.pwrite(self._fd, np.ascontiguousarray(image).tobytes(), self._n * self.itemsize)
        self._n += 1
        return self._n - 1

    def __len__(self) -> int:
        return self._n

    def _read(self, i: int) -> np.ndarray:
        if not -self._n <= i < self._n:
            raise IndexError(f"image {i} of {self._n}")
        i %= self._n
        data = os.pread(self._fd, self.itemsize, i * self.itemsize)
        return np.frombuffer(data, np.uint8).reshape(self.shape)

    @overload
    def __getitem__(self, i: int) -> np.ndarray: ...
    @overload
    def __getitem__(self, i: slice) -> list[np.ndarray]: ...

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self._read(k) for k in range(*i.indices(self._n))]
        return self._read(int(i))

    def subset(self, positions: Sequence[int]) -> "SpoolView":
        return SpoolView(self, list(positions))

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
            self.path.unlink(missing_ok=True)


class SpoolView(Sequence):
    """The images of a spool at chosen positions, read when asked for."""

    def __init__(self, spool: ImageSpool, positions: list[int]):
        self.spool, self.positions = spool, positions

    def __len__(self) -> int:
        return len(self.positions)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self.spool[p] for p in self.positions[i]]
        return self.spool[self.positions[int(i)]]
