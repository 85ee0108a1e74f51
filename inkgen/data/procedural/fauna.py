"""Animal motifs: a perched bird, the crane, the deer, the carp and the dragonfly.

Each motif is a few closed parts (body, head, wing, tail, fins) passed to ``Painter.shape`` so that the
painting type decides how they look: gongbi outlines each part finely and fills it with mineral colour
(scales and feathers added as detail lines), baimiao outlines only, xieyi lays ink washes with few or no
outlines (the boneless manner). Sizes are in canvas pixels; ``facing`` is +1 (right) or -1 (left).
"""

from __future__ import annotations

import numpy as np

from inkgen.data.procedural.brush import Painter, bent, ellipse, leaf


def bird(p: Painter, x: float, y: float, s: float, facing: int = 1) -> None:
    """A small songbird perched with its feet at (x, y); ``s`` is its body length."""
    f = facing
    body_c = np.array([x, y - s * 0.32])
    tail = leaf(body_c - [f * s * 0.2, -s * 0.05], body_c - [f * s * 0.85, -s * 0.4], s * 0.18, 8)
    p.shape(tail, "bird", line_scale=0.8)
    for side in (-1, 1):  # legs gripping the perch
        p.stroke(np.array([body_c + [side * s * 0.06, s * 0.15], [x + side * s * 0.08, y]]), 1.0,
                 p.style.ink, 0.9, taper="even", noise=0)
    body = ellipse(body_c[0], body_c[1], s * 0.36, s * 0.22, -0.35 * f, 22)
    p.shape(body, "bird_breast", line_scale=0.8)
    wing = leaf(body_c + [f * s * 0.18, -s * 0.1], body_c - [f * s * 0.38, -s * 0.12], s * 0.22, 10)
    p.shape(wing, "bird", line_scale=0.8)
    head_c = body_c + [f * s * 0.3, -s * 0.22]
    p.shape(ellipse(head_c[0], head_c[1], s * 0.15, s * 0.14, 0, 16), "bird", line_scale=0.8)
    beak = np.array([head_c + [f * s * 0.12, -s * 0.04], head_c + [f * s * 0.3, s * 0.02],
                     head_c + [f * s * 0.12, s * 0.05]])
    p.shape(beak, "black", line_scale=0.6)
    p.polygon(ellipse(head_c[0] + f * s * 0.05, head_c[1] - s * 0.03, s * 0.035, s * 0.035, 0, 8),
              p.style.ink, 0.95)
    p.mark("bird")


def crane(p: Painter, x: float, y: float, h: float, facing: int = 1, flying: bool = False) -> None:
    """A red-crowned crane: white body, black neck and tail, long legs (or outstretched in flight)."""
    f = facing
    body_c = np.array([x, y - (0 if flying else h * 0.55)])
    if flying:
        for side in (-1, 1):  # wide wings with black flight-feather tips
            tip = body_c + [-f * h * 0.15, side * h * 0.45]
            wing = leaf(body_c, tip, h * 0.25, 12)
            p.shape(wing, "crane")
            p.shape(leaf(body_c + (tip - body_c) * 0.6, tip, h * 0.12, 8), "black", line_scale=0.7)
        neck = np.array([body_c + [f * h * 0.15, 0], body_c + [f * h * 0.55, -h * 0.05]])
        legs = [np.array([body_c - [f * h * 0.15, 0], body_c - [f * h * 0.6, -h * 0.03]])]
    else:
        neck = bent(body_c + [f * h * 0.18, -h * 0.05], body_c + [f * h * 0.25, -h * 0.42], 0.2 * f, 10)
        legs = [np.array([body_c + [dx * h, h * 0.1], [x + dx * h * 1.3, y]]) for dx in (-0.04, 0.05)]
    for leg in legs:
        p.stroke(leg, max(h * 0.018, 1.0), p.style.ink, 0.9, taper="even", noise=0.1)
    tail = leaf(body_c - [f * h * 0.1, 0], body_c - [f * h * 0.42, -h * 0.08], h * 0.16, 10)
    p.shape(tail, "black", line_scale=0.7)
    p.shape(ellipse(body_c[0], body_c[1], h * 0.24, h * 0.12, 0.1 * f, 24), "crane")
    p.stroke(neck, max(h * 0.05, 1.5), p.style.ink, 0.92, taper="even", noise=0.15)
    head = neck[-1]
    p.shape(ellipse(head[0], head[1], h * 0.045, h * 0.035, 0, 12), "crane", line_scale=0.7)
    p.shape(ellipse(head[0], head[1] - h * 0.025, h * 0.025, h * 0.015, 0, 8), "crown", line_scale=0.5)
    p.stroke(np.array([head + [f * h * 0.03, 0], head + [f * h * 0.15, h * 0.02]]), max(h * 0.015, 1.0),
             p.style.ink, 0.9, taper="sin", noise=0)
    p.mark("crane")


def deer(p: Painter, x: float, y: float, s: float, facing: int = 1) -> None:
    """A spotted sika deer standing with hooves on y; ``s`` is its body length."""
    rng = p.rng
    f = facing
    body_c = np.array([x, y - s * 0.62])
    for dx in (-0.32, -0.22, 0.22, 0.32):  # legs
        top = body_c + [dx * s, s * 0.1]
        p.limb(np.array([top, [top[0] + rng.normal(0, s * 0.02), y]]), max(s * 0.06, 1.5), "deer")
    neck = leaf(body_c + [f * s * 0.3, s * 0.05], body_c + [f * s * 0.5, -s * 0.45], s * 0.22, 10)
    p.shape(neck, "deer")
    p.shape(ellipse(body_c[0], body_c[1], s * 0.45, s * 0.2, 0, 24), "deer")
    head_c = body_c + [f * s * 0.55, -s * 0.48]
    p.shape(leaf(head_c - [f * s * 0.05, 0], head_c + [f * s * 0.25, s * 0.1], s * 0.14, 10), "deer")
    p.shape(leaf(head_c - [f * s * 0.02, -s * 0.02], head_c - [f * s * 0.15, s * 0.12], s * 0.06, 6), "deer")
    for side in (-1, 1):  # antlers: a beam with two tines
        base = head_c + [side * s * 0.03, -s * 0.05]
        beam = bent(base, base + [side * s * 0.12 - f * s * 0.05, -s * 0.3], 0.1, 8)
        p.line(beam, scale=1.2, share=1.0)
        for t in (0.4, 0.75):
            q = beam[int(t * (len(beam) - 1))]
            p.line(np.array([q, q + [f * s * 0.08, -s * 0.06]]), scale=1.0, share=1.0)
    if p.kind != "baimiao":  # the white spots of a sika deer
        spots = body_c + rng.normal(0, 1, (8, 2)) * [s * 0.2, s * 0.07]
        p.dots(spots, s * 0.025, (250, 246, 236), 0.9)
    p.polygon(ellipse(head_c[0] + f * s * 0.06, head_c[1] - s * 0.01, s * 0.02, s * 0.02, 0, 6), p.style.ink, 0.95)
    p.mark("deer")


def carp(p: Painter, x: float, y: float, s: float, angle: float) -> None:
    """A carp of length ``s`` swimming towards ``angle``: spindle body, forked tail, fins, scales."""
    d = np.array([np.cos(angle), np.sin(angle)])
    nrm = np.array([-d[1], d[0]])
    c = np.array([x, y])
    head, tail_root = c + d * s * 0.45, c - d * s * 0.35
    for side in (-1, 1):
        fin = leaf(tail_root, tail_root - d * s * 0.3 + nrm * side * s * 0.18, s * 0.14, 8)
        p.shape(fin, "fish", line_scale=0.7)
    p.shape(leaf(c + nrm * s * 0.12, c - d * s * 0.15 + nrm * s * 0.28, s * 0.12, 8), "fish", line_scale=0.7)
    body = leaf(tail_root, head, s * 0.32, 18)
    p.shape(body, "fish")
    if p.kind != "xieyi":  # rows of scales: the gongbi / baimiao detail
        for i in range(4):
            for j in (-1, 0, 1):
                q = c - d * s * (0.2 - i * 0.1) + nrm * j * s * 0.06
                arc = np.array([q + nrm * s * 0.03, q + d * s * 0.03, q - nrm * s * 0.03])
                p.line(arc, scale=0.6, share=1.0)
    eye = head - d * s * 0.1 + nrm * s * 0.04
    p.polygon(ellipse(eye[0], eye[1], s * 0.025, s * 0.025, 0, 8), p.style.ink, 0.95)
    p.line(np.array([head - d * s * 0.02, head + d * s * 0.08 - nrm * s * 0.1]), scale=0.7, share=1.0)
    p.mark("fish")


def dragonfly(p: Painter, x: float, y: float, s: float, angle: float = 0.0) -> None:
    """A dragonfly of span ``s``: two pairs of veined wings, a slim abdomen, big eyes."""
    d = np.array([np.cos(angle), np.sin(angle)])
    nrm = np.array([-d[1], d[0]])
    c = np.array([x, y])
    for along in (0.02, -0.08):
        for side in (-1, 1):
            tip = c + d * s * along + nrm * side * s * 0.5
            p.shape(leaf(c + d * s * along, tip, s * 0.13, 10), "wing", line_scale=0.6)
    p.shape(leaf(c, c - d * s * 0.65, s * 0.06, 10), "petal", line_scale=0.7)
    p.shape(ellipse(*(c + d * s * 0.06), s * 0.07, s * 0.05, angle, 10), "black", line_scale=0.6)
    p.mark("insect")
