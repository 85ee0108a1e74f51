"""Procedural Chinese ink paintings: the embedded default data source (no internet, known truth).

In the spirit of LingDong-/shan-shui-inf (seeded PRNG, Perlin-noise brush strokes, layered mountains with
texture strokes and white occlusion, a scene planner), written anew for landscapes, figures, flowers and
plants, birds and animals in three painting types (xieyi, gongbi, baimiao) on period-toned paper.

Modules: ``noise`` (seeds, PRNG, Perlin/value noise), ``style`` (what each painting type looks like),
``brush`` (strokes, washes, fills), ``paper`` (paper, seals, inscription), ``landscape``, ``figures``,
``flora``, ``fauna``, ``scenes`` (motifs and compositions), ``plan`` (corpus quotas), ``render`` (one
painting and its truth), ``source`` (the collect source, multi-process).
"""

from inkgen.data.procedural.plan import FORMATS, PaintingSpec, plan_corpus
from inkgen.data.procedural.render import RENDERER_VERSION, render_painting
from inkgen.data.procedural.source import ProceduralSource

__all__ = ["FORMATS", "PaintingSpec", "ProceduralSource", "RENDERER_VERSION", "plan_corpus", "render_painting"]
