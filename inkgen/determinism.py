"""Seeded runs that give the same bytes: deterministic kernels and a fixed thread count, for a block only.

Float reductions depend on how work is split between threads, so a checkpoint's bytes depend on the
thread count as much as on the seed; both are fixed while a model trains and restored afterwards.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch


@contextlib.contextmanager
def deterministic(threads: int | None = None, *, warn_only: bool = False) -> Iterator[None]:
    """Deterministic algorithms on (``warn_only`` where a GPU kernel has no deterministic version) and,
    when ``threads`` is a positive number, that many intra-op threads; both restored on exit."""
    was = torch.are_deterministic_algorithms_enabled()
    old_threads = torch.get_num_threads()
    torch.use_deterministic_algorithms(True, warn_only=warn_only)
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(was)
        torch.set_num_threads(old_threads)
