"""Stage one of copy matching: a pHash candidate index that returns the few works worth verifying.

Paper section 6.2, *ownership attribution*. At the study's 64 px a perceptual hash alone cannot decide
whether an image is a copy: the procedural corpus is made of many similar paintings, so an unrelated work
often lies within a few bits of another, while a copy rotated by 10 degrees or cropped by 10% may lie
further away than that. The hash is therefore used only to *narrow the search* (this module): for a query
hashed in several variants (original, mirrored), the candidates are the ``k`` registered works nearest to
any variant plus every work within ``radius`` bits. Stage two (:mod:`governance.copy_verify`) decides,
candidate by candidate, with a geometric check on the pixels.

The search is exact (a vectorised scan, :class:`governance.hash_index.HashIndex`): ``k`` nearest by
``numpy.argpartition`` over the Hamming distances — one pass over the registry per variant, a few
milliseconds at a million works (``benchmarks/bench_copy_match.py`` measures it next to faiss's
``IndexBinaryFlat``, which answers the same query).
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
from PIL import Image

from governance.hash_index import HashIndex
from governance.phash import ImageHashError, open_image, parse_hash


@dataclass(frozen=True)
class Candidate:
    index: int       # position in the reference set
    id: str
    distance: int    # smallest Hamming distance over the query's variants (and the reference's crops)
    variant: str     # the query variant that gave it


class References:
    """Works a query is compared with (a registry or a training split): ids and pHashes, and for stage two
    a way to load each work's image (``None`` when only the hash is known). ``extra`` holds further hashes
    of the works (e.g. of a centred crop, :func:`governance.copymatch.reference_set`) with the position
    of the work each belongs to, so that a cropped copy still finds its original among the candidates."""

    def __init__(self, index: HashIndex, load: Callable[[int], Image.Image | None] | None = None,
                 source: str = "", files: Sequence[Path | None] | None = None) -> None:
        self.index = index
        self.files = list(files) if files is not None else [None] * len(index)
        self._load = load or self._load_file
        self.source = source
        self.extra: np.ndarray = np.zeros(0, dtype=np.uint64)
        self.extra_owner: np.ndarray = np.zeros(0, dtype=np.intp)

    def _load_file(self, position: int) -> Image.Image | None:
        f = self.files[position]
        return open_image(f) if f is not None else None

    def __len__(self) -> int:
        return len(self.index)

    @property
    def ids(self) -> list[str]:
        return self.index.ids

    def image(self, position: int) -> Image.Image | None:
        return self._load(position)

    def add_hashes(self, hashes: np.ndarray, owners: np.ndarray) -> None:
        self.extra = np.concatenate([self.extra, np.asarray(hashes, dtype=np.uint64)])
        self.extra_owner = np.concatenate([self.extra_owner, np.asarray(owners, dtype=np.intp)])


def _select(best: np.ndarray, positions: np.ndarray, k: int, radius: int) -> np.ndarray:
    """Positions (of ``positions``) chosen by the rule: the ``k`` smallest ``best`` (ties: lower position),
    plus every one within ``radius``; returned nearest first (ties: position)."""
    order = np.lexsort((positions, best))
    keep = np.zeros(len(best), dtype=bool)
    keep[order[:k]] = True
    keep |= best <= radius
    return order[keep[order]]


def _best_distances(refs: References, hashes: Mapping[str, int]) -> tuple[list[str], np.ndarray]:
    names = list(hashes)
    dist = np.stack([refs.index.distances(hashes[v]) for v in names]).astype(np.int16)   # variants x n
    if len(refs.extra):
        for row, v in enumerate(names):
            d = np.bitwise_count(refs.extra ^ np.uint64(hashes[v])).astype(np.int16)
            np.minimum.at(dist[row], refs.extra_owner, d)
    return names, dist


def candidates(refs: References, hashes: Mapping[str, int], *, k: int, radius: int,
               index: str = "numpy") -> list[Candidate]:
    """The ``k`` nearest works to any variant of the query (ties: lower position), plus all within
    ``radius`` bits, nearest first (ties: position). ``index`` "numpy" scans every hash (vectorised);
    "faiss" asks a faiss binary index (:func:`faiss_candidates`) and returns the same list."""
    if index == "faiss":
        return faiss_candidates(refs, hashes, k=k, radius=radius)
    if index != "numpy":
        raise ValueError(f"candidate index {index!r}: must be 'numpy' or 'faiss'")
    if not len(refs):
        return []
    names, dist = _best_distances(refs, hashes)
    best_variant = np.argmin(dist, axis=0)
    best = dist[best_variant, np.arange(len(refs))]
    kth = np.partition(best, min(k, len(best)) - 1)[min(k, len(best)) - 1] if k > 0 else -1
    pool = np.flatnonzero(best <= max(int(kth), radius))        # every work that can be chosen, O(n)
    chosen = pool[_select(best[pool], pool, k, radius)]
    return [Candidate(int(i), refs.ids[i], int(best[i]), names[int(best_variant[i])]) for i in chosen]


def _faiss_index(refs: References) -> tuple[Any, np.ndarray]:
    """A ``faiss.IndexBinaryFlat`` over the works' hashes and their extra hashes, with each row's owner;
    built once per reference set."""
    cached = getattr(refs, "_faiss", None)
    if cached is not None and cached[2] == len(refs.extra):
        return cached[0], cached[1]
    import faiss

    codes = np.concatenate([refs.index.hashes, refs.extra]).astype(np.uint64)
    owner = np.concatenate([np.arange(len(refs), dtype=np.intp), refs.extra_owner])
    index = faiss.IndexBinaryFlat(64)
    index.add(np.ascontiguousarray(codes.view(np.uint8).reshape(-1, 8)))
    refs._faiss = (index, owner, len(refs.extra))
    return index, owner


def faiss_candidates(refs: References, hashes: Mapping[str, int], *, k: int, radius: int) -> list[Candidate]:
    """:func:`candidates` through faiss's exact binary index (Johnson, Douze & Jégou 2019, "Billion-scale
    similarity search with GPUs"; ``IndexBinaryFlat``: Hamming distances with POPCNT, multi-threaded).

    Exact, by construction: a k-NN search per variant over ``(1 + extra per work) * k`` rows bounds the
    k-th best work distance from above (``bound``); every row within ``max(bound, radius)`` bits is then
    fetched with a range search, which holds every work the rule can choose, with its true best
    distance; the rule (:func:`_select`) then picks exactly what the numpy scan picks."""
    if not len(refs):
        return []
    index, owner = _faiss_index(refs)
    names = list(hashes)
    q = np.ascontiguousarray(np.array([hashes[v] for v in names], dtype=np.uint64).view(np.uint8).reshape(-1, 8))
    rows_per_work = int(np.bincount(owner, minlength=len(refs)).max())
    kk = min(index.ntotal, max(1, k) * rows_per_work)
    d, i = index.search(q, kk)
    seen: dict[int, int] = {}
    for dist_row, idx_row in zip(d, i):
        for dist, row in zip(dist_row, idx_row):
            if row >= 0:
                w = int(owner[row])
                seen[w] = min(seen.get(w, 99), int(dist))
    bound = sorted(seen.values())[min(k, len(seen)) - 1] if k > 0 and seen else 0
    lims, rd, ri = index.range_search(q, max(bound, radius) + 1)   # faiss keeps distances < radius
    best: dict[int, tuple[int, int]] = {}
    for v in range(len(names)):
        for dist, row in zip(rd[lims[v]:lims[v + 1]], ri[lims[v]:lims[v + 1]]):
            w = int(owner[row])
            if w not in best or (int(dist), v) < best[w]:
                best[w] = (int(dist), v)
    pool = np.array(sorted(best), dtype=np.intp)
    dists = np.array([best[w][0] for w in pool], dtype=np.int16)
    chosen = pool[_select(dists, pool, k, radius)]
    return [Candidate(int(w), refs.ids[w], best[w][0], names[best[w][1]]) for w in chosen]


def load_training_references(path: str | os.PathLike[str], *, root: str | os.PathLike[str] | None = None,
                             split: str | None = "train", id_column: str = "item_id",
                             hash_columns: tuple[str, ...] = ("phash", "hash"), split_column: str = "split",
                             file_column: str = "file") -> References:
    """The training images of a manifest CSV: only rows whose ``split`` column equals ``split`` (the study's
    ``manifest.csv`` holds train, val and test rows; a test image is not a training image). A CSV without a
    split column is taken as a list of training images. ``file`` paths are resolved against ``root``
    (default: the working directory, i.e. the project root). A malformed hash names its row."""
    path = Path(path)
    base = Path(root) if root is not None else Path.cwd()
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        column = next((c for c in hash_columns if c in header), None)
        if id_column not in header or column is None:
            raise ImageHashError(f"{path}: needs columns {id_column!r} and one of {list(hash_columns)}; has {header}")
        keep: Callable[[dict], bool] = (lambda row: True) if split is None or split_column not in header \
            else (lambda row: row[split_column] == split)
        ids, values, files = [], [], []
        for n, row in enumerate(reader, 1):
            if not keep(row):
                continue
            ids.append(row[id_column])
            values.append(parse_hash(row[column] or "", f"{path} row {n} (id {row[id_column]}), field {column!r}"))
            files.append(base / row[file_column] if row.get(file_column) else None)
    what = f"{path} ({split} split)" if split is not None and split_column in header else str(path)
    return References(HashIndex(np.array(values, dtype=np.uint64), ids), source=what, files=files)
