"""What makes the three painting types look different, as data: line, fill, wash and paper per type.

- xieyi (freehand): wide wet strokes with strong pressure noise, ink washes blurred like ink bleeding into
  absorbent xuan paper, few outlines, light colour at most, lots of blank space.
- gongbi (fine-brush): thin even "iron-wire" outlines over flat mineral colours (azurite, malachite,
  cinnabar, ochre, lead white) on toned silk.
- baimiao (plain drawing): thin black lines only, shapes filled with paper white, no wash, no colour.

Paper tone depends on the period as well (pre-Qing aged and yellowed, Qing warm, modern nearly white).
"""

from __future__ import annotations

from dataclasses import dataclass

RGB = tuple[int, int, int]

INK: RGB = (18, 17, 20)

# Mineral pigments of gongbi painting, and a few organic ones (rouge, rattan yellow).
AZURITE: RGB = (38, 82, 150)
MALACHITE: RGB = (38, 128, 96)
CINNABAR: RGB = (196, 48, 32)
OCHRE: RGB = (176, 118, 58)
LEAD_WHITE: RGB = (246, 242, 232)
ROUGE: RGB = (214, 92, 118)
RATTAN: RGB = (222, 176, 52)
PERSIMMON: RGB = (226, 112, 36)
SEAL_RED: RGB = (188, 32, 30)

# Gongbi fills by the role a shape plays; xieyi uses the same roles with pale colour or plain ink.
GONGBI_FILL: dict[str, RGB] = {
    "leaf": MALACHITE, "leaf_light": (112, 158, 104), "petal": CINNABAR, "petal_pink": ROUGE,
    "petal_white": LEAD_WHITE, "petal_yellow": RATTAN, "stamen": RATTAN, "water": (140, 172, 190),
    "mountain": AZURITE, "mountain_foot": MALACHITE, "rock": OCHRE, "wood": (112, 74, 46),
    "roof": (64, 70, 86), "skin": (238, 212, 182), "robe_a": AZURITE, "robe_b": CINNABAR,
    "robe_c": MALACHITE, "robe_d": OCHRE, "hair": INK, "bird": (150, 112, 80), "bird_breast": (226, 196, 150),
    "crane": LEAD_WHITE, "crown": CINNABAR, "fish": (222, 96, 40), "deer": (178, 112, 60),
    "fruit": PERSIMMON, "cabbage": (196, 220, 170), "radish": (240, 232, 224), "radish_red": (200, 60, 70),
    "cloud": LEAD_WHITE, "moon": (250, 246, 226), "wing": (180, 196, 200), "black": INK,
}

# Xieyi fills: (colour, opacity). Ink roles read as ink density; coloured roles as light colour.
XIEYI_FILL: dict[str, tuple[RGB, float]] = {
    "leaf": (INK, 0.80), "leaf_light": (INK, 0.45), "petal": ((208, 70, 60), 0.55),
    "petal_pink": ((210, 100, 120), 0.50), "petal_white": (INK, 0.0), "petal_yellow": ((214, 170, 60), 0.55),
    "stamen": ((200, 150, 40), 0.6), "water": (INK, 0.12), "mountain": (INK, 0.50),
    "mountain_foot": (INK, 0.30), "rock": (INK, 0.45), "wood": (INK, 0.70), "roof": (INK, 0.75),
    "skin": (INK, 0.0), "robe_a": (INK, 0.25), "robe_b": (INK, 0.35), "robe_c": (INK, 0.20),
    "robe_d": ((150, 110, 70), 0.35), "hair": (INK, 0.9), "bird": (INK, 0.70), "bird_breast": (INK, 0.2),
    "crane": (INK, 0.0), "crown": ((200, 40, 30), 0.8), "fish": (INK, 0.55), "deer": ((150, 100, 60), 0.45),
    "fruit": ((224, 120, 40), 0.75), "cabbage": (INK, 0.35), "radish": (INK, 0.08),
    "radish_red": ((200, 60, 70), 0.6), "cloud": (INK, 0.0), "moon": (INK, 0.0), "wing": (INK, 0.15),
    "black": (INK, 0.95),
}

# Paper tone per painting type and period: silk for gongbi, absorbent xuan for xieyi, bright paper for
# baimiao (kept nearly neutral so "no colour" stays true), each yellower the older the work.
PAPER_TONE: dict[str, dict[str, RGB]] = {
    "gongbi": {"pre_qing": (206, 180, 132), "qing": (224, 204, 162), "modern": (236, 226, 200)},
    "xieyi": {"pre_qing": (224, 208, 174), "qing": (236, 226, 204), "modern": (246, 243, 236)},
    "baimiao": {"pre_qing": (234, 229, 218), "qing": (241, 238, 230), "modern": (249, 248, 245)},
}


@dataclass(frozen=True)
class Style:
    """Brush behaviour of one painting type (widths in units of the canvas's ``u``, 1 % of short side)."""

    name: str
    line_width: float  # outline width
    line_alpha: float
    line_noise: float  # share of the width that Perlin pressure noise may take away
    line_taper: str  # width profile along a stroke: "sin" (tapered both ends) or "even"
    outline_share: float  # share of a shape's outline actually drawn (xieyi leaves most out)
    wash_blur: float  # blur of washes in u; 0 = hard flat fills
    texture_alpha: float
    ink: RGB


STYLES: dict[str, Style] = {
    "xieyi": Style("xieyi", line_width=1.5, line_alpha=0.85, line_noise=0.6, line_taper="sin",
                   outline_share=0.35, wash_blur=1.4, texture_alpha=0.35, ink=INK),
    "gongbi": Style("gongbi", line_width=0.38, line_alpha=0.9, line_noise=0.08, line_taper="even",
                    outline_share=1.0, wash_blur=0.0, texture_alpha=0.25, ink=(44, 32, 26)),
    "baimiao": Style("baimiao", line_width=0.45, line_alpha=0.95, line_noise=0.25, line_taper="sin",
                     outline_share=1.0, wash_blur=0.0, texture_alpha=0.5, ink=INK),
}
