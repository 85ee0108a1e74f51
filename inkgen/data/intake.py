"""Image intake: turn downloaded or user-supplied bytes into one well-defined RGB image, or refuse them.

Every source (museum APIs, a local folder) passes its bytes through :func:`intake_image` (or
:func:`normalise_image`, which returns only the image). What comes out is always an 8-bit RGB
``PIL.Image`` the right way up; what cannot be made into one raises
:class:`ImageRejected` with a short ``kind`` (used to count reasons) and a sentence saying why. The
caller quarantines refused bytes (``RawStore.quarantine``), so a bad file never stops the stage and is
never lost.

What is handled, and how:

* not an image at all (an HTML error page, text, empty bytes) -> ``not_an_image`` / ``empty``;
* a header that declares more than ``max_pixels`` -> ``too_large``, decided from the header *before*
  any pixel is decoded (Pillow's ``Image.open`` is lazy), and Pillow's own ``DecompressionBombError``;
* a declared width or height of zero -> ``zero_size`` (Pillow refuses to identify such files, so the
  size is read from the PNG/GIF/BMP header to give a precise reason);
* truncated or corrupt pixel data -> ``truncated`` / ``corrupt`` (Pillow is left to refuse truncated
  files: ``ImageFile.LOAD_TRUNCATED_IMAGES`` stays off so half an image is never kept as a whole one);
* EXIF orientation -> applied (``ImageOps.exif_transpose``) so the painting stands upright;
* CMYK, YCbCr, LAB, HSV, 1-bit, greyscale, palette -> converted to RGB;
* 16-bit greyscale (``I;16*``/``I``) and float (``F``) -> rescaled to 0-255, not clipped;
  16-bit RGB PNGs are already reduced by Pillow to their high byte (v // 256), which is a rescale;
* transparency (RGBA, LA, PA, palette with a transparent index) -> composited onto white, the colour of
  the paper, not onto black;
* several frames or pages (animated GIF / PNG / WebP, multi-page TIFF, MPO) -> the first frame is kept
  and the file's frame count is reported (:attr:`Intake.frames`); the sources write it into the record's
  metadata as ``"frames": n`` (absent means one frame), so the choice is visible, never silent. A frame
  count that cannot be read (damaged later frames) refuses the file as ``corrupt``.

See the Pillow handbook on modes (https://pillow.readthedocs.io/en/stable/handbook/concepts.html#modes)
and on decompression bombs (``Image.MAX_IMAGE_PIXELS``).
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# Magic numbers of the formats museums and users actually send; used only to word a refusal precisely.
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)
_DIRECT_RGB = {"CMYK", "YCbCr", "LAB", "HSV", "1", "L"}
_ALPHA = {"RGBA", "RGBa", "LA", "La", "PA"}


class ImageRejected(ValueError):
    """Bytes that cannot become a usable RGB image. ``kind`` is a short token for counting reasons."""

    def __init__(self, item_id: str, reason: str, kind: str = "corrupt"):
        super().__init__(f"{item_id}: {kind}: {reason}")
        self.item_id = item_id
        self.reason = reason
        self.kind = kind

    @property
    def quarantine_reason(self) -> str:
        """The ``"<kind>: <reason>"`` string stored in the quarantine list."""
        return f"{self.kind}: {self.reason}"


def sniff_format(data: bytes) -> str | None:
    """The image format the first bytes announce, or None."""
    for magic, name in _SIGNATURES:
        if data.startswith(magic):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def _declared_size(data: bytes, fmt: str | None) -> tuple[int, int] | None:
    """Width and height from a PNG, GIF or BMP header, for files Pillow declines to identify."""
    try:
        if fmt == "PNG" and data[12:16] == b"IHDR":
            return struct.unpack(">II", data[16:24])
        if fmt == "GIF":
            return struct.unpack("<HH", data[6:10])
        if fmt == "BMP":
            width, height = struct.unpack("<ii", data[18:26])
            return abs(width), abs(height)
    except struct.error:
        return None
    return None


def _describe_non_image(data: bytes) -> str:
    head = data[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head or b"<body" in head:
        return "the bytes are an HTML page (an error or login page?), not an image"
    if head.startswith((b"{", b"[")):
        return "the bytes are JSON, not an image"
    try:
        data[:512].decode("utf-8")
    except UnicodeDecodeError:
        return f"unrecognised binary data (starts with {data[:8].hex()})"
    return f"the bytes are text, not an image (starts with {data[:40].decode('utf-8', 'replace')!r})"


def _damage_kind(exc: BaseException) -> str:
    """``truncated`` when Pillow ran out of bytes (a cut-off download), else ``corrupt``."""
    return "truncated" if "truncated" in str(exc).lower() else "corrupt"


def _open(data: bytes, item_id: str, max_pixels: int) -> Image.Image:
    """Open lazily (header only) and enforce the pixel budget before anything is decoded."""
    if not data:
        raise ImageRejected(item_id, "no bytes at all", "empty")
    fmt = sniff_format(data)
    try:
        with warnings.catch_warnings():
            # Pillow warns between MAX_IMAGE_PIXELS and twice that; the budget is checked below instead.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise ImageRejected(item_id, f"possible decompression bomb ({exc})", "too_large") from exc
    except UnidentifiedImageError as exc:
        size = _declared_size(data, fmt)
        if size is not None and 0 in size:
            raise ImageRejected(item_id, f"{fmt} header declares a {size[0]}x{size[1]} image",
                                "zero_size") from exc
        if fmt is not None:
            raise ImageRejected(item_id, f"{fmt} signature but an unreadable header", "corrupt") from exc
        raise ImageRejected(item_id, _describe_non_image(data), "not_an_image") from exc
    except (OSError, SyntaxError, ValueError, struct.error) as exc:
        raise ImageRejected(item_id, f"unreadable {fmt or 'image'} header ({exc})", _damage_kind(exc)) from exc
    width, height = image.size
    if width <= 0 or height <= 0:
        raise ImageRejected(item_id, f"declares a {width}x{height} image", "zero_size")
    if width * height > max_pixels:
        raise ImageRejected(
            item_id,
            f"{image.format} header declares {width}x{height} = {width * height:,} pixels, more than "
            f"collect.max_image_pixels = {max_pixels:,} (possible decompression bomb; not decoded)",
            "too_large",
        )
    return image


def _decode(image: Image.Image, item_id: str) -> Image.Image:
    try:
        image.load()
    except OSError as exc:
        raise ImageRejected(item_id, f"{image.format} pixel data cannot be decoded ({exc})",
                            _damage_kind(exc)) from exc
    except (SyntaxError, ValueError, struct.error, EOFError) as exc:
        raise ImageRejected(item_id, f"{image.format} pixel data is corrupt ({exc})", "corrupt") from exc
    try:
        return ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError, struct.error, KeyError) as exc:
        # A damaged EXIF block does not make the pixels unusable, but the orientation is then unknown.
        raise ImageRejected(item_id, f"EXIF orientation cannot be read ({exc})", "corrupt") from exc


def _rescale_to_8bit(image: Image.Image) -> Image.Image:
    """High-bit-depth greyscale to 8 bits by scaling the value range, never by clipping."""
    values = np.asarray(image, dtype=np.float64)
    if image.mode.startswith("I;16") or (image.mode == "I" and values.min() >= 0 and values.max() <= 65535):
        scaled = values / 257.0  # 65535 / 255: the full 16-bit range onto the full 8-bit range
    else:
        lo, hi = float(values.min()), float(values.max())
        if image.mode == "F" and lo >= 0.0 and hi <= 1.0:
            lo, hi = 0.0, 1.0  # a float image already in [0, 1] keeps its absolute brightness
        scaled = (values - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(values)
    grey = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    return Image.fromarray(grey, mode="L").convert("RGB")


def _onto_white(image: Image.Image) -> Image.Image:
    """Composite a transparent image onto white paper (a transparent pixel is blank paper, not ink)."""
    rgba = image.convert("RGBA")
    paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(paper, rgba).convert("RGB")


def to_rgb(image: Image.Image, item_id: str) -> Image.Image:
    """Any decoded Pillow image as 8-bit RGB (see the module docstring for each mode)."""
    mode = image.mode
    if mode == "RGB":
        return image.copy()
    if mode in _ALPHA or (mode == "P" and "transparency" in image.info):
        return _onto_white(image)
    if mode == "P":
        return image.convert("RGB")
    if mode in _DIRECT_RGB:
        return image.convert("RGB")
    if mode.startswith("I") or mode == "F":
        return _rescale_to_8bit(image)
    raise ImageRejected(item_id, f"unsupported image mode {mode!r}", "unsupported_mode")


@dataclass(frozen=True)
class Intake:
    """What intake made of some bytes: the upright RGB ``image`` (the first frame) and the file's frames."""

    image: Image.Image
    frames: int = 1  # frames (pages) in the file; only the first one is in ``image``

    @property
    def metadata(self) -> dict[str, Any]:
        """What the record's metadata should say about the intake: ``{"frames": n}`` when n > 1."""
        return {"frames": self.frames} if self.frames > 1 else {}


def _frame_count(data: bytes, item_id: str, fmt: str | None) -> int:
    """How many frames (pages) the file holds, read from a fresh handle so the decoded frame is untouched."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                frames = int(getattr(probe, "n_frames", 1) or 1)
    except (OSError, SyntaxError, ValueError, struct.error, EOFError, Image.DecompressionBombError) as exc:
        raise ImageRejected(item_id, f"the {fmt or 'image'} frame count cannot be read; a later frame is "
                                     f"damaged ({exc})", "corrupt") from exc
    return max(frames, 1)


def intake_image(data: bytes, item_id: str, max_pixels: int) -> Intake:
    """Decode ``data`` into an upright 8-bit RGB image and count its frames, or raise :class:`ImageRejected`."""
    image = _open(data, item_id, max_pixels)
    fmt = image.format
    upright = _decode(image, item_id)
    rgb = to_rgb(upright, item_id)
    if rgb.width == 0 or rgb.height == 0:
        raise ImageRejected(item_id, "decoded to an empty image", "zero_size")
    return Intake(image=rgb, frames=_frame_count(data, item_id, fmt))


def normalise_image(data: bytes, item_id: str, max_pixels: int) -> Image.Image:
    """Decode ``data`` into an upright 8-bit RGB image, or raise :class:`ImageRejected` saying why.

    Only the first frame of a multi-frame file; :func:`intake_image` also says how many there were.
    """
    return intake_image(data, item_id, max_pixels).image
