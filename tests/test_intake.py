"""Image intake: every awkward file is either normalised to upright 8-bit RGB or refused with a reason.

Each case is built here with Pillow or raw bytes, and the test checks what comes out: pixel values,
orientation and size, or the refusal's kind and wording.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from inkgen.data.intake import ImageRejected, intake_image, normalise_image

BUDGET = 4_000_000


def encode(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **options)
    return buf.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def raw_png(width: int, height: int, depth: int, colour_type: int, scanlines: bytes) -> bytes:
    """A PNG written by hand, for what Pillow will not write: 16-bit RGB, absurd or zero sizes."""
    header = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", zlib.compress(scanlines))
            + png_chunk(b"IEND", b""))


def pixels(image: Image.Image) -> np.ndarray:
    assert image.mode == "RGB"
    return np.asarray(image)


def rejected(data: bytes, max_pixels: int = BUDGET) -> ImageRejected:
    with pytest.raises(ImageRejected) as err:
        normalise_image(data, "item-1", max_pixels)
    assert err.value.item_id == "item-1"
    return err.value


# ------------------------------------------------------------------------------------------- accepted
def test_plain_rgb_is_kept_as_is():
    source = (np.arange(4 * 6 * 3) % 251).astype(np.uint8).reshape(4, 6, 3)
    out = normalise_image(encode(Image.fromarray(source)), "x", BUDGET)
    assert out.size == (6, 4) and np.array_equal(pixels(out), source)


def test_cmyk_is_converted():
    cmyk = Image.new("CMYK", (3, 2), (0, 255, 255, 0))  # no cyan, full magenta and yellow: red
    out = normalise_image(encode(cmyk, "TIFF"), "x", BUDGET)
    assert out.size == (3, 2) and tuple(pixels(out)[0, 0]) == (255, 0, 0)
    jpeg = normalise_image(encode(Image.new("CMYK", (8, 8), (0, 0, 0, 0)), "JPEG"), "x", BUDGET)
    assert pixels(jpeg).min() >= 250  # no ink at all is white paper


def test_16_bit_greyscale_is_rescaled_not_clipped():
    grey = np.array([[0, 257, 32896, 65535]], dtype=np.uint16)
    out = normalise_image(encode(Image.fromarray(grey)), "x", BUDGET)
    assert pixels(out)[0, :, 0].tolist() == [0, 1, 128, 255]
    assert np.array_equal(pixels(out)[..., 0], pixels(out)[..., 2])


def test_16_bit_rgb_is_rescaled_not_clipped():
    row = b"\x00" + struct.pack(">6H", 65535, 32896, 0, 257, 0, 16448)
    out = normalise_image(raw_png(2, 1, 16, 2, row), "x", BUDGET)
    assert pixels(out).tolist() == [[[255, 128, 0], [1, 0, 64]]]


def test_float_image_is_rescaled():
    values = np.array([[0.0, 0.5, 1.0]], dtype=np.float32)
    out = normalise_image(encode(Image.fromarray(values, mode="F"), "TIFF"), "x", BUDGET)
    assert pixels(out)[0, :, 0].tolist() == [0, 128, 255]


def test_palette_is_converted_and_its_transparent_index_is_paper():
    palette = Image.new("P", (3, 1))
    palette.putpalette([200, 30, 30, 10, 10, 10, 0, 0, 255] + [0] * 759)
    palette.putpixel((1, 0), 1)
    palette.putpixel((2, 0), 2)
    out = normalise_image(encode(palette), "x", BUDGET)
    assert pixels(out).tolist() == [[[200, 30, 30], [10, 10, 10], [0, 0, 255]]]
    out = normalise_image(encode(palette, "GIF", transparency=2), "x", BUDGET)
    assert pixels(out).tolist() == [[[200, 30, 30], [10, 10, 10], [255, 255, 255]]]


def test_alpha_is_composited_onto_white_paper():
    rgba = Image.new("RGBA", (3, 1))
    rgba.putdata([(0, 0, 0, 0), (0, 0, 0, 255), (255, 0, 0, 128)])
    out = pixels(normalise_image(encode(rgba), "x", BUDGET))
    assert out[0, 0].tolist() == [255, 255, 255]  # transparent black is blank paper, not ink
    assert out[0, 1].tolist() == [0, 0, 0]
    assert out[0, 2, 0] == 255 and 125 <= out[0, 2, 1] <= 128 and out[0, 2, 1] == out[0, 2, 2]
    la = Image.new("LA", (2, 1))
    la.putdata([(0, 0), (30, 255)])
    assert pixels(normalise_image(encode(la), "x", BUDGET)).tolist() == [[[255] * 3, [30] * 3]]


def test_one_bit_image_is_converted():
    bits = Image.new("1", (2, 1), 0)
    bits.putpixel((1, 0), 1)
    assert pixels(normalise_image(encode(bits), "x", BUDGET)).tolist() == [[[0] * 3, [255] * 3]]


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_exif_orientation_is_applied(fmt):
    landscape = Image.new("RGB", (40, 20), (255, 255, 255))
    landscape.paste((0, 0, 0), (0, 0, 10, 10))  # ink in the stored top-left corner
    exif = landscape.getexif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    out = normalise_image(encode(landscape, fmt, exif=exif, **({"quality": 95} if fmt == "JPEG" else {})),
                          "x", BUDGET)
    assert out.size == (20, 40)
    corners = pixels(out)[[2, 2, 37], [17, 2, 2]].mean(axis=1)
    assert corners[0] < 40 and corners[1] > 215 and corners[2] > 215  # the ink is now top-right


RED, GREEN, BLUE = (200, 10, 10), (10, 200, 10), (10, 10, 200)


@pytest.mark.parametrize("fmt, options", [
    ("GIF", {}), ("TIFF", {}), ("PNG", {}), ("WEBP", {"lossless": True}),  # PNG with save_all: APNG
])
def test_multi_frame_files_keep_the_first_frame_and_count_the_frames(fmt, options):
    frames = [Image.new("RGB", (8, 6), colour) for colour in (RED, GREEN, BLUE)]
    data = encode(frames[0], fmt, save_all=True, append_images=frames[1:], **options)
    result = intake_image(data, "x", BUDGET)
    assert result.frames == 3 and result.metadata == {"frames": 3}
    assert result.image.size == (8, 6) and pixels(result.image)[3, 4].tolist() == list(RED)
    assert pixels(normalise_image(data, "x", BUDGET))[3, 4].tolist() == list(RED)


def test_single_frame_files_report_one_frame():
    for fmt in ("PNG", "JPEG", "GIF", "TIFF"):
        result = intake_image(encode(Image.new("RGB", (5, 4), RED), fmt), "x", BUDGET)
        assert result.frames == 1 and result.metadata == {}


# ------------------------------------------------------------------------------------------- refused
def test_html_error_page_is_not_an_image():
    err = rejected(b"<!DOCTYPE html>\n<html><head><title>503</title></head><body>busy</body></html>")
    assert err.kind == "not_an_image" and "HTML" in err.reason
    assert err.quarantine_reason.startswith("not_an_image: ")


def test_text_json_and_binary_junk_are_not_images():
    assert "text" in rejected(b"Service unavailable, try later").reason
    assert "JSON" in rejected(b'{"message": "rate limited"}').reason
    assert "binary" in rejected(bytes(range(200, 256)) * 4).reason


def test_empty_bytes():
    assert rejected(b"").kind == "empty"


def test_truncated_jpeg_and_png():
    noise = Image.fromarray((np.random.default_rng(1).random((48, 48, 3)) * 255).astype(np.uint8))
    for data in (encode(noise, "JPEG"), encode(noise, "PNG")):
        err = rejected(data[: len(data) // 2])
        assert err.kind == "truncated" and "truncated" in err.reason


def test_corrupt_pixel_data():
    data = bytearray(encode(Image.new("RGB", (32, 32), (9, 9, 9))))
    idat = data.index(b"IDAT")
    data[idat + 4:idat + 12] = b"\xde\xad\xbe\xef" * 2  # the compressed stream, not the header
    err = rejected(bytes(data))
    assert err.kind == "corrupt" and "PNG" in err.reason


def test_size_budget_is_checked_from_the_header_before_decoding():
    # A header promising 12000 x 12000 pixels over a few bytes of data: decoding it would be the bomb
    # (and would fail as truncated, so "too_large" shows the header was judged first).
    bomb = raw_png(12_000, 12_000, 8, 0, b"\x00" * 16)
    err = rejected(bomb, max_pixels=BUDGET)
    assert err.kind == "too_large" and "12000x12000" in err.reason and "not decoded" in err.reason
    real = encode(Image.new("RGB", (2100, 2000)))
    assert rejected(real, max_pixels=BUDGET).kind == "too_large"
    assert normalise_image(real, "x", 2100 * 2000).size == (2100, 2000)


def test_pillow_decompression_bomb_error_is_a_refusal():
    # Past twice Pillow's own MAX_IMAGE_PIXELS it refuses on open, whatever our budget says.
    err = rejected(raw_png(20_000, 20_000, 8, 0, b""), max_pixels=2**31 - 1)
    assert err.kind == "too_large" and "decompression bomb" in err.reason


@pytest.mark.parametrize("width, height", [(0, 5), (5, 0)])
def test_zero_size_images(width, height):
    err = rejected(raw_png(width, height, 8, 0, b""))
    assert err.kind == "zero_size" and f"{width}x{height}" in err.reason
    gif = b"GIF89a" + struct.pack("<HH", width, height) + b"\x00\x00\x00;"
    assert rejected(gif).kind == "zero_size"


def test_garbage_after_a_real_signature_is_corrupt():
    err = rejected(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    assert err.kind == "corrupt" and "PNG" in err.reason
