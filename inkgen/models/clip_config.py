"""The architecture of the study's CLIP (the guide of eq. 13 and the independent judge;
:mod:`inkgen.models.clip`) in one frozen dataclass.

Each field declares its type, range and meaning here, once (``inkgen.settings.setting``); params.yaml's
``clip.model`` and ``judge.model`` sections are this dataclass. This module imports neither torch nor
open_clip: the params file is validated without them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Mapping

from inkgen.settings import check_fields, from_mapping, setting

VOCAB_SIZE = 49408  # open_clip's own BPE tokenizer; a different size would not match its token ids


class ClipError(ValueError):
    """A CLIP checkpoint, config or input that cannot be used; the message names it and says why."""


@dataclass(frozen=True)
class ClipConfig:
    """Architecture of the CLIP model. ``arch == ""`` builds the small custom model from the sizes below;
    a named open_clip architecture (e.g. ``"ViT-B-32"``) ignores them and uses open_clip's own config."""

    arch: str = setting(doc='"" builds the custom model below; an open_clip name (e.g. ViT-B-32) uses its own',
                        default="")
    name: str = setting(doc="the custom model's registry name (a digest of the sizes is appended)",
                        default="inkgen-clip-tiny")
    embed_dim: int = setting(8, 4096, default=128)
    image_size: int = setting(8, 1024, default=64)
    patch_size: int = setting(1, 256, doc="must divide image_size; 16: 4 x 4 patches at 64 px, ~1.3x the speed of "
                              "8 px patches on CPU", default=16)
    vision_width: int = setting(8, 4096, doc="a multiple of vision_head_width", default=128)
    vision_layers: int = setting(1, 64, default=4)
    vision_head_width: int = setting(1, 512, default=32)
    text_width: int = setting(8, 4096, doc="a multiple of text_heads", default=128)
    text_layers: int = setting(1, 64, default=2)
    text_heads: int = setting(1, 64, default=4)
    context_length: int = setting(2, 77, doc="tokens of a caption (open_clip's tokenizer: at most 77)", default=77)

    def __post_init__(self) -> None:
        check_fields(self, "ClipConfig", ClipError)
        if self.arch:
            return
        why = {"patch_size": (self.image_size % self.patch_size == 0, "must divide image_size"),
               "vision_width": (self.vision_width % self.vision_head_width == 0,
                                "must be a multiple of vision_head_width"),
               "text_width": (self.text_width % self.text_heads == 0, "must be a multiple of text_heads")}
        for key, (ok, reason) in why.items():
            if not ok:
                raise ClipError(f"ClipConfig.{key}={getattr(self, key)!r} {reason}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "ClipConfig":
        return from_mapping(cls, d, ClipError)

    def open_clip_config(self) -> dict[str, Any]:
        """The open_clip model-config JSON (``embed_dim``, ``vision_cfg``, ``text_cfg``) of these sizes."""
        return {
            "embed_dim": self.embed_dim,
            "vision_cfg": {"image_size": self.image_size, "patch_size": self.patch_size,
                           "width": self.vision_width, "layers": self.vision_layers,
                           "head_width": self.vision_head_width},
            "text_cfg": {"context_length": self.context_length, "vocab_size": VOCAB_SIZE,
                         "width": self.text_width, "heads": self.text_heads, "layers": self.text_layers},
        }

    def model_name(self) -> str:
        """The open_clip registry name: ``arch``, or ``name`` plus a digest of the sizes (so two
        different custom configs never share a registry entry)."""
        if self.arch:
            return self.arch
        digest = hashlib.sha256(json.dumps(self.open_clip_config(), sort_keys=True).encode()).hexdigest()
        return f"{self.name}-{digest[:8]}"
