"""The 8:1:1 train/validation/test split of paper section 2.1, stratified, deterministic, leak-free.

The paper divides its multimodal dataset into training, validation and test sets at 8:1:1. Here the split
is also

- **stratified** by primary category x painting type, so every split sees every kind of painting;
- **deterministic**: the result depends only on the items (ids, strata, images) and the seed, never on
  their order in the input;
- **withholding** (:func:`split_with_withheld`): items of the secondary categories named in
  ``annotate.withheld_secondary``, and every near-duplicate of one, go to a fourth split, ``withheld``,
  which no training stage reads; the rest are split 8:1:1 as below.
- **leak-free**: near-duplicate images (perceptual hashes within ``near_duplicate_distance`` bits; pHash,
  Zauner 2010, via ``imagehash.phash``) are grouped with union-find and each group goes to one split, so a
  test image never has a near-copy in training.

Hamming distances between the 64-bit hashes are computed in blocks with ``numpy.bitwise_count`` over
XORed ``uint64`` arrays: all pairs of 15,000 items (the paper's corpus) took 0.5 s on 2 CPU cores.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Sequence

import imagehash
import numpy as np
import pandas as pd
from PIL import Image

from inkgen.config import SplitParams

SPLITS = ("train", "val", "test")
# items of the secondary categories in ``annotate.withheld_secondary``: never trained on, evaluated beside
# the test split for the generalisation claim (paper section 4)
WITHHELD = "withheld"


def phash(path: str | Path) -> int:
    """The 64-bit perceptual hash (DCT of a 32x32 grey image, 8x8 low frequencies) as an integer."""
    with Image.open(path) as img:
        return int(str(imagehash.phash(img)), 16)


def hash_array(hashes: Sequence[int | str]) -> np.ndarray:
    """64-bit hashes (ints or 16-digit hex strings) as a ``uint64`` array."""
    return np.array([int(h, 16) if isinstance(h, str) else int(h) for h in hashes], dtype=np.uint64)


class _UnionFind:
    """Disjoint sets over 0..n-1; the root of a set is always its smallest member."""

    def __init__(self, n: int) -> None:
        self.parent = np.arange(n)

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]  # path halving keeps later finds short
            i = parent[i]
        return int(i)

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def near_duplicate_groups(hashes: np.ndarray, max_distance: int, block: int = 512) -> np.ndarray:
    """Group label per item: the index of the smallest item linked to it by near-duplicate chains.

    Items i, j are linked when the Hamming distance of their hashes is at most ``max_distance``; groups
    are the transitive closure (union-find). Only the upper triangle is computed, ``block`` rows at a
    time, so memory stays at ``block * n`` bytes of distances.
    """
    hashes = np.asarray(hashes, dtype=np.uint64)
    n = len(hashes)
    uf = _UnionFind(n)
    for start in range(0, n, block):
        rows = hashes[start:start + block]
        # (block, n - start) Hamming distances of these rows against themselves and every later item
        dist = np.bitwise_count(rows[:, None] ^ hashes[None, start:])
        i, j = np.nonzero(dist <= max_distance)
        keep = j > i  # upper triangle: j is a column offset from `start`, as i is a row offset
        for a, b in zip(i[keep] + start, j[keep] + start):
            uf.union(int(a), int(b))
    return np.array([uf.find(k) for k in range(n)])


def _order_key(seed: int, name: str) -> str:
    # A seeded hash, not a shuffle: a group's place depends only on its own name, not on the others'.
    return hashlib.sha256(f"{seed}:{name}".encode()).hexdigest()


def assign_splits(item_ids: Sequence[str], strata: Sequence[str], hashes: np.ndarray,
                  params: SplitParams) -> pd.DataFrame:
    """Split items train/val/test; return a frame (in input order) of item_id, split, near_dup_group.

    ``near_dup_group`` names each group by its smallest item id. A group's stratum is its members' most
    common one (ties: the smallest). Strata are taken in sorted order and, within one, groups largest
    first, then in seeded-hash order; each group goes to the split furthest below its target share, counting
    the deficit both within the stratum and over all items placed so far. The second term stops rounding
    in many small strata from always favouring the same split.
    """
    frame = pd.DataFrame({"item_id": list(item_ids), "stratum": list(strata),
                          "hash": np.asarray(hashes, dtype=np.uint64)})
    if frame["item_id"].duplicated().any():
        raise ValueError(f"duplicate item ids: {sorted(frame.loc[frame['item_id'].duplicated(), 'item_id'])}")
    ordered = frame.sort_values("item_id", kind="stable").reset_index(drop=True)
    roots = near_duplicate_groups(ordered["hash"].to_numpy(), params.near_duplicate_distance)
    ordered["near_dup_group"] = ordered["item_id"].to_numpy()[roots]

    ratios = np.array([params.train, params.val, params.test])
    # each group's most common stratum, ties to the smallest: sort by (group, -count, stratum), keep first
    votes = ordered.groupby(["near_dup_group", "stratum"]).size().rename("n").reset_index()
    groups = (votes.sort_values(["near_dup_group", "n", "stratum"], ascending=[True, False, True])
              .drop_duplicates("near_dup_group")
              .drop(columns="n")
              .merge(ordered.groupby("near_dup_group").size().rename("size").reset_index()))
    groups["order"] = [_order_key(params.seed, g) for g in groups["near_dup_group"]]
    placed_total = np.zeros(3)
    split_of_group: dict[str, str] = {}
    for _, stratum_groups in groups.groupby("stratum", sort=True):
        stratum_groups = stratum_groups.sort_values(["size", "order"], ascending=[False, True])
        target = ratios * stratum_groups["size"].sum()
        placed = np.zeros(3)
        for group, size in zip(stratum_groups["near_dup_group"], stratum_groups["size"]):
            global_target = ratios * (placed_total.sum() + size)
            deficit = (target - placed) + (global_target - placed_total)
            k = int(np.argmax(deficit))  # ties go to the earlier split, train first
            placed[k] += size
            placed_total[k] += size
            split_of_group[group] = SPLITS[k]
    ordered["split"] = ordered["near_dup_group"].map(split_of_group)
    result = ordered.set_index("item_id").loc[frame["item_id"], ["split", "near_dup_group"]]
    return result.reset_index()


def split_with_withheld(item_ids: Sequence[str], strata: Sequence[str], secondary: Sequence[str | None],
                        hashes: np.ndarray, params: SplitParams, withheld: Sequence[str]) -> pd.DataFrame:
    """:func:`assign_splits` after moving the ``withheld`` secondary categories' items -- with their whole
    near-duplicate groups, so that no near-copy of a withheld work is trained on -- to split ``withheld``.

    Raises ``ValueError`` naming ``annotate.withheld_secondary`` when a withheld category has no item in
    the corpus (the generalisation claim would measure nothing) or when withholding would leave the
    train, validation or test split empty."""
    key = "annotate.withheld_secondary"
    ids = list(item_ids)
    sec = pd.Series(list(secondary), index=ids, dtype=object)
    for category in withheld:
        if not (sec == category).any():
            raise ValueError(f"{key}: no item of secondary category {category!r} in this corpus; nothing could "
                             "measure generalisation to it (remove it, or use a corpus that has it)")
    hashes = np.asarray(hashes, dtype=np.uint64)
    order = np.argsort(np.asarray(ids, dtype=object), kind="stable")
    roots = near_duplicate_groups(hashes[order], params.near_duplicate_distance)
    group = pd.Series(np.asarray(ids, dtype=object)[order][roots], index=np.asarray(ids, dtype=object)[order])
    marked = set(group[sec.reindex(group.index).isin(list(withheld)).to_numpy()].to_numpy())
    out_mask = group.reindex(ids).isin(marked).to_numpy()
    keep = ~out_mask
    if not keep.any():
        raise ValueError(f"{key}: {list(withheld)} withholds every item; the train split would be empty")
    kept = assign_splits([i for i, k in zip(ids, keep) if k], [s for s, k in zip(strata, keep) if k],
                         hashes[keep], params)
    empty = [s for s in SPLITS if not (kept["split"] == s).any()]
    if empty:
        raise ValueError(f"{key}: withholding {list(withheld)} leaves {int(keep.sum())} items, too few for the "
                         f"{'/'.join(empty)} split(s)")
    held = pd.DataFrame({"item_id": [i for i, k in zip(ids, keep) if not k], "split": WITHHELD,
                         "near_dup_group": group.reindex([i for i, k in zip(ids, keep) if not k]).to_numpy()})
    return pd.concat([kept, held]).set_index("item_id").loc[ids].reset_index()
