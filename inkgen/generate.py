"""Text -> painting with a trained MTDIG-TIGIVM-CLIP checkpoint.

Pipeline: prompts -> frozen BERT (token features, mask, pooled vector; :mod:`inkgen.models.text_encoder`)
-> the Transformer stacked decoder samples the VQGAN's code grids autoregressively
(:func:`inkgen.models.sampling.generate_codes`) -> the VQGAN decodes them (with the pooled text vector as
the eq. 8 style input when the VQGAN has ``text_style_norm``) -> [-1, 1] images -> uint8 RGB PIL images.

Optional test-time CLIP refinement (``clip_refine_steps > 0``): starting from the looked-up code vectors
``z_q``, a few Adam steps on the continuous latent minimise eq. 13, ``1 - cos(v_t, v_k)``, between the
prompt's CLIP text feature and the decoded image's CLIP image feature, with a given local CLIP model;
the refined latent is then decoded. Neither the VQGAN nor CLIP is changed.

Determinism: the sampled codes depend only on the seed, the models and the prompt list (image ``i`` of a
call is row ``i``: prompt ``i // count``, copy ``i % count``), and the refinement has no randomness, so
the same call gives the same pixels.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from PIL import Image

from inkgen.generate_error import GenerateError
from inkgen.models.cross_modal import TextToCodes
from inkgen.models.sampling import generate_codes
from inkgen.models.text_encoder import TextEncoder, TextEncoderError
from inkgen.models.vqgan.model import VQGAN
from inkgen.prompts import check_prompts


def to_pil(images: torch.Tensor) -> list[Image.Image]:
    """(N, 3, H, W) images in [-1, 1] -> N uint8 RGB PIL images (values outside the range are clipped)."""
    x = ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    arr = x.permute(0, 2, 3, 1).cpu().numpy()
    return [Image.fromarray(np.ascontiguousarray(a)) for a in arr]


def load_generation_clip(clip):
    """``clip``: an ``InkClip``, or the path of a local CLIP checkpoint -> a frozen ``InkClip``."""
    # local: open_clip takes seconds to import and only CLIP-guided generation (--clip) needs it
    from inkgen.models.clip import ClipError, InkClip, freeze, load_clip

    if isinstance(clip, InkClip):
        return freeze(clip)
    if isinstance(clip, (str, Path)):
        try:
            return freeze(load_clip(clip))
        except (ClipError, FileNotFoundError) as exc:
            raise GenerateError(f"CLIP for refinement: {exc}") from exc
    raise GenerateError(f"clip must be an InkClip or the path of a CLIP checkpoint, got {type(clip).__name__}")


class Generator:
    """A trained VQGAN + text -> codes prior + frozen BERT, ready to turn prompts into images."""

    def __init__(self, vqgan: VQGAN, prior: TextToCodes, text_encoder, *, source: str = "<in memory>",
                 device: str | torch.device = "cpu", guidable: bool = False):
        """``guidable``: the prior was trained with condition dropout (``prior_train.uncond_prob`` > 0), so
        classifier-free guidance (``guidance_scale`` != 1) has an unconditional model to steer from."""
        self.source = source
        self.guidable = bool(guidable)
        self.device = torch.device(device)
        width = int(text_encoder.dim)
        if prior.config.text_dim != width:
            raise GenerateError(f"{source}: the prior expects {prior.config.text_dim}-d text features but the text "
                                f"encoder at {str(getattr(text_encoder, 'path', '?'))!r} gives {width}-d ones; use "
                                "the text encoder the checkpoint was trained with")
        if vqgan.config.text_style_norm and vqgan.config.text_dim != width:
            raise GenerateError(f"{source}: the VQGAN's style normalisation expects {vqgan.config.text_dim}-d text "
                                f"vectors but the text encoder gives {width}-d ones")
        expected = [vqgan.code_shapes()[k] for k in ("global", "detail") if k in vqgan.code_shapes()]
        if list(prior.shapes) != expected:
            raise GenerateError(f"{source}: the prior predicts code grids {list(prior.shapes)} but the VQGAN has "
                                f"{expected}")
        self.vqgan = vqgan.to(self.device).eval().requires_grad_(False)
        self.prior = prior.to(self.device).eval().requires_grad_(False)
        self.text_encoder = text_encoder.to(self.device).eval()
        self.keys = [k for k in ("global", "detail") if k in vqgan.code_shapes()]

    # ------------------------------------------------------------------------------------- loading
    @classmethod
    def from_checkpoint(cls, path: str | Path, *, text_encoder_path: str | Path | None = None,
                        params_hash: str | None = None, text_encoder=None,
                        device: str | torch.device = "cpu") -> "Generator":
        """Load a phase-2 (``prior``) training checkpoint and a local BERT: ``text_encoder_path`` (``""``: the
        embedded MiniLM; ``None``: the one the checkpoint records it was trained with), or ``text_encoder``,
        an already built :class:`TextEncoder`, which wins over the path.

        Refused with :class:`GenerateError` naming the file: missing, corrupt, VQGAN-only (no prior),
        written under another params hash (when ``params_hash`` is given), or a text encoder of another
        width than the prior's ``text_dim``.
        """
        from inkgen.training import CheckpointError, load_trained  # local: training is the layer above generation

        path = Path(path)
        try:
            vqgan, prior, ck = load_trained(path, params_hash=params_hash)
        except CheckpointError as exc:
            raise GenerateError(str(exc)) from exc
        except Exception as exc:  # missing keys, state dicts that do not fit their configs, ...
            raise GenerateError(f"{path}: corrupt checkpoint, its models cannot be rebuilt "
                                f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})") from exc
        if prior is None:
            raise GenerateError(f"{path}: is a {ck.get('phase')!r} checkpoint without the text -> codes prior; "
                                "generation needs the phase-2 checkpoint (prior-last.pt)")
        if text_encoder is None:
            recorded = (ck.get("meta") or {}).get("text_encoder") or {}
            if text_encoder_path is None:
                text_encoder_path = recorded.get("param_path", "")
            try:
                # lite: no transformers import (bit-identical features; see inkgen.models.bert_lite)
                text_encoder = TextEncoder(text_encoder_path, freeze=True, lite=True,
                                           max_tokens=recorded.get("max_tokens"))
            except (TextEncoderError, FileNotFoundError) as exc:
                raise GenerateError(f"text encoder: {exc}") from exc
            if ck.get("text_encoder_state") is not None:  # the BERT was fine-tuned with the prior
                try:
                    text_encoder.bert.load_state_dict(ck["text_encoder_state"])
                except RuntimeError as exc:
                    raise GenerateError(f"{path}: its fine-tuned text encoder does not fit the BERT at "
                                        f"{str(text_encoder.path)!r} ({str(exc).splitlines()[0]})") from exc
        guidable = float((ck.get("train_config") or {}).get("uncond_prob", 0.0)) > 0
        return cls(vqgan, prior, text_encoder, source=str(path), device=device, guidable=guidable)

    # ---------------------------------------------------------------------------------- generating
    def _check(self, prompts: Sequence[str], count: int, clip_refine_steps: int) -> list[str]:
        prompts = check_prompts(prompts, GenerateError)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise GenerateError(f"count={count!r} must be an integer >= 1")
        if isinstance(clip_refine_steps, bool) or not isinstance(clip_refine_steps, int) or clip_refine_steps < 0:
            raise GenerateError(f"clip_refine_steps={clip_refine_steps!r} must be an integer >= 0")
        return prompts

    def encode(self, prompts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """BERT (token features, mask, pooled) of the prompts; too long a prompt is a GenerateError."""
        try:
            with torch.no_grad():
                tokens, mask, pooled = self.text_encoder.encode(list(prompts))
        except TextEncoderError as exc:
            raise GenerateError(str(exc)) from exc
        return tokens.float().to(self.device), mask.long().to(self.device), pooled.float().to(self.device)

    def generate_tensors(self, prompts: Sequence[str], *, seed: int = 0, count: int = 1, temperature: float = 1.0,
                         top_k: int | None = None, guidance_scale: float = 1.0, clip_refine_steps: int = 0,
                         clip=None, clip_lr: float = 0.05, batch: int = 16) -> torch.Tensor:
        """Like :meth:`generate`, but returns the images as a (N, 3, R, R) float tensor in [-1, 1]."""
        prompts = self._check(prompts, count, clip_refine_steps)
        if temperature is None or not float(temperature) >= 0:
            raise GenerateError(f"temperature={temperature!r} must be a number >= 0")
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
            raise GenerateError(f"top_k={top_k!r} must be an integer >= 1 or None")
        if isinstance(guidance_scale, bool) or not isinstance(guidance_scale, (int, float)) \
                or not 0 <= guidance_scale <= 100:
            raise GenerateError(f"guidance_scale={guidance_scale!r} must be a number in [0, 100] (1: no guidance)")
        empty = None
        if guidance_scale != 1:
            if not self.guidable:
                raise GenerateError(f"{self.source}: guidance_scale={guidance_scale} needs a prior trained with "
                                    "condition dropout (prior_train.uncond_prob > 0); this one was not: use "
                                    "guidance_scale 1")
            with torch.no_grad():
                empty = tuple(t.float().to(self.device) for t in self.text_encoder.empty_caption())
        guide = None
        if clip_refine_steps > 0:
            if clip is None:
                raise GenerateError("clip_refine_steps > 0 needs a local CLIP model (clip=...)")
            if not float(clip_lr) > 0:
                raise GenerateError(f"clip_lr={clip_lr!r} must be > 0")
            guide = load_generation_clip(clip)
        tokens, mask, pooled = self.encode(prompts)
        if count > 1:
            tokens, mask, pooled = (t.repeat_interleave(count, dim=0) for t in (tokens, mask, pooled))
        rows = [p for p in prompts for _ in range(count)]
        codes = generate_codes(self.prior, tokens, mask, pooled, temperature=float(temperature), top_k=top_k,
                               seed=int(seed), batch=batch, guidance_scale=float(guidance_scale), empty=empty)
        text_vec = pooled if self.vqgan.config.text_style_norm else None
        out = []
        for r0 in range(0, len(rows), max(1, int(batch))):
            r1 = min(len(rows), r0 + max(1, int(batch)))
            indices = {k: c[r0:r1].to(self.device) for k, c in zip(self.keys, codes)}
            tv = None if text_vec is None else text_vec[r0:r1]
            with torch.no_grad():
                z_q = self.vqgan.quantize.lookup(indices)
            if guide is not None:
                z_q = self.refine(z_q, tv, rows[r0:r1], guide, clip_refine_steps, float(clip_lr))
            with torch.no_grad():
                out.append(self.vqgan.decode(z_q, tv).float().clamp(-1, 1).cpu())
        return torch.cat(out)

    def refine(self, z_q: torch.Tensor, text_vec: torch.Tensor | None, prompts: Sequence[str], clip, steps: int,
               lr: float) -> torch.Tensor:
        """``steps`` Adam steps on the continuous latent ``z_q`` minimising eq. 13 for ``prompts``."""
        from inkgen.models.clip import ClipError, clip_guidance_loss  # local: open_clip only for --clip

        clip = clip.to(self.device)
        try:
            with torch.no_grad():
                v_t = clip.encode_text(list(prompts), normalize=True)
        except ClipError as exc:
            raise GenerateError(f"CLIP refinement: {exc}") from exc
        z = z_q.detach().clone().requires_grad_(True)
        opt = torch.optim.Adam([z], lr=lr)
        with torch.enable_grad():
            for _ in range(steps):
                img = self.vqgan.decode(z, text_vec)
                # per-image losses summed: each image's latent gets its own gradient, whatever the batch
                loss = clip_guidance_loss(clip, img, v_t, reduction="none").sum()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
        return z.detach()

    def generate(self, prompts: Sequence[str], *, seed: int = 0, count: int = 1, temperature: float = 1.0,
                 top_k: int | None = None, guidance_scale: float = 1.0, clip_refine_steps: int = 0, clip=None,
                 clip_lr: float = 0.05, batch: int = 16) -> list[Image.Image]:
        """``count`` RGB images per prompt (prompt-major order), ``R x R`` with R the VQGAN's resolution.

        ``temperature`` 0 is greedy; ``top_k`` keeps the k most likely codes per step; ``guidance_scale`` s
        != 1 is classifier-free guidance (:mod:`inkgen.models.sampling`). ``clip_refine_steps``
        > 0 (with ``clip``, an ``InkClip`` or a local CLIP checkpoint path) refines each image's latent
        with eq. 13 at learning rate ``clip_lr`` before decoding.
        """
        return to_pil(self.generate_tensors(prompts, seed=seed, count=count, temperature=temperature, top_k=top_k,
                                            guidance_scale=guidance_scale, clip_refine_steps=clip_refine_steps,
                                            clip=clip, clip_lr=clip_lr, batch=batch))
