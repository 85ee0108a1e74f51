"""Seeded randomness for the procedural renderer: per-item seeds, a PRNG, Perlin and value noise.

shan-shui-inf drives every stroke from one seeded PRNG and Perlin noise so that a seed reproduces a
painting exactly; we do the same with numpy's PCG64 (bit-stable across platforms and processes) and a
vectorised 1-D gradient (Perlin) noise for wobbling outlines, plus 2-D value noise fields (random
lattice, cubic upsampling) for paper grain and uneven ink. Nothing here reads the clock, the process id
or hash() of strings, so the same seed gives the same numbers in any process.
"""

from __future__ import annotations

import cv2
import numpy as np


def item_seed(collect_seed: int, index: int) -> int:
    """A 63-bit seed for item ``index`` of a corpus, derived from the collect seed by SeedSequence."""
    state = np.random.SeedSequence([int(collect_seed), int(index)]).generate_state(2, dtype=np.uint32)
    return int(state[0]) << 31 | int(state[1]) >> 1


def make_rng(seed: int, stream: int = 0) -> np.random.Generator:
    """Independent PCG64 streams from one seed (``stream`` separates e.g. planning from drawing)."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(seed), int(stream)])))


class Noise:
    """1-D Perlin gradient noise with a seeded gradient table; values lie roughly in [0, 1]."""

    _SIZE = 256

    def __init__(self, rng: np.random.Generator):
        self._grad = rng.uniform(-1.0, 1.0, self._SIZE)
        self._perm = rng.permutation(self._SIZE)

    def __call__(self, x: np.ndarray | float) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        i0 = np.floor(x).astype(np.int64)
        f = x - i0
        g0 = self._grad[self._perm[i0 & (self._SIZE - 1)]]
        g1 = self._grad[self._perm[(i0 + 1) & (self._SIZE - 1)]]
        # Perlin's quintic fade keeps the derivative continuous, so outlines do not show kinks.
        fade = f * f * f * (f * (f * 6.0 - 15.0) + 10.0)
        value = (1.0 - fade) * (g0 * f) + fade * (g1 * (f - 1.0))
        return np.clip(value * 1.6 + 0.5, 0.0, 1.0)

    def fbm(self, x: np.ndarray | float, octaves: int = 3) -> np.ndarray:
        """Fractal sum of octaves: large swells with small ripples, like a brush's pressure."""
        x = np.asarray(x, dtype=np.float64)
        total = np.zeros_like(x)
        amp, norm = 1.0, 0.0
        for k in range(octaves):
            total += amp * self(x * (2.0 ** k) + 17.3 * k)
            norm += amp
            amp *= 0.5
        return total / norm


def value_field(rng: np.random.Generator, width: int, height: int, cell: float,
                octaves: int = 3) -> np.ndarray:
    """A ``height x width`` float32 field in [0, 1]: random lattices upsampled cubically and summed."""
    out = np.zeros((height, width), np.float32)
    norm = 0.0
    amp = 1.0
    for k in range(octaves):
        c = max(cell / (2 ** k), 1.0)
        gw, gh = int(width / c) + 2, int(height / c) + 2
        lattice = rng.random((gh, gw), dtype=np.float32)
        out += amp * cv2.resize(lattice, (width, height), interpolation=cv2.INTER_CUBIC)
        norm += amp
        amp *= 0.5
    out /= norm
    lo, hi = float(out.min()), float(out.max())
    return (out - lo) / max(hi - lo, 1e-6)
