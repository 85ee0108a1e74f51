"""Every hyper-parameter of the Transformer stacked decoder (paper section 2.2, Figure 5, eq. 11;
:class:`inkgen.models.cross_modal.TextToCodes`) in one frozen dataclass.

Each field declares its type, range and meaning here, once (``inkgen.settings.setting``). params.yaml's
``model.prior`` section is these fields less ``DECIDED_ELSEWHERE``: the code grids are the VQGAN's, the text
width the text encoder's and the alignment flag the variant's (``inkgen.training.prior_config``). This
module imports no torch: the params file is validated without it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Mapping

from inkgen.settings import check_fields, from_mapping, setting

Stream = tuple[tuple[int, int], int]  # ((h, w), codebook size)


def _norm_streams(streams: Any) -> tuple[Stream, ...]:
    out = []
    for s in streams:
        if isinstance(s, Mapping):
            shape, k = s["shape"], s["codebook_size"]
        else:
            shape, k = s
        h, w = (int(v) for v in shape)
        k = int(k)
        if h < 1 or w < 1 or k < 2:
            raise ValueError(f"bad stream {s!r}: need h, w >= 1 and codebook_size >= 2")
        out.append(((h, w), k))
    if not out:
        raise ValueError("at least one stream (code grid) is needed")
    return tuple(out)


@dataclass(frozen=True)
class CrossModalConfig:
    """Hyper-parameters of :class:`~inkgen.models.cross_modal.TextToCodes`.

    ``streams``: the code grids in prediction order (global first, then detail), each ``((h, w), K)``;
    ``from_dict`` also accepts ``{"shape": [h, w], "codebook_size": K}`` items.
    ``use_alignment=False`` is the ``no_transformer`` ablation (see ``inkgen.models.cross_modal``).
    """

    d_model: int = setting(8, 8192, doc="token width (a multiple of n_heads)", default=128)
    n_layers: int = setting(1, 128, doc="decoder layers", default=4)
    n_heads: int = setting(1, 128, default=4)
    dropout: float = setting(0.0, 0.9, default=0.1)
    text_dim: int = setting(1, 8192, doc="the text encoder's feature width", default=384)
    streams: tuple[Stream, ...] = (((16, 16), 256),)  # the VQGAN's code grids (checked by _norm_streams)
    use_alignment: bool = setting(doc="eq. 11's alignment and the cross-attention (False: no_transformer)",
                                  default=True)
    mlp_ratio: int = setting(1, 16, doc="MLP width / d_model", default=4)

    # the values params.yaml's model.prior does not set: the VQGAN's grids, the text width, the variant's flag
    DECIDED_ELSEWHERE: ClassVar[tuple[str, ...]] = ("text_dim", "streams", "use_alignment")

    def __post_init__(self):
        object.__setattr__(self, "streams", _norm_streams(self.streams))
        check_fields(self, "CrossModalConfig")
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model {self.d_model} is not divisible by n_heads {self.n_heads}")

    @property
    def seq_len(self) -> int:
        """Number of code tokens over all streams (the BOS slot not counted)."""
        return sum(h * w for (h, w), _ in self.streams)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["streams"] = [{"shape": [h, w], "codebook_size": k} for (h, w), k in self.streams]
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "CrossModalConfig":
        return from_mapping(cls, d)
