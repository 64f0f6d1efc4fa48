"""The inline SVG QR codes decode back to exactly their data (zxing-cpp reads them)."""

import re

import pytest
import zxingcpp
from PIL import Image, ImageDraw

from civicvote.qr import qr_svg


def rasterize(svg: str, scale: int = 8) -> Image.Image:
    """Draw our SVG's rectangles (the only shapes qr_svg emits) into a bitmap."""
    size = int(re.search(r'viewBox="0 0 (\d+) \1"', svg).group(1))
    image = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(image)
    path = re.search(r'<path fill="#000" d="([^"]*)"', svg).group(1)
    for x, y, width in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", path):
        x, y, width = int(x), int(y), int(width)
        draw.rectangle([x * scale, y * scale, (x + width) * scale - 1, (y + 1) * scale - 1], fill=0)
    return image


def decode(svg: str) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(rasterize(svg))]


@pytest.mark.parametrize(
    "data",
    [
        "http://127.0.0.1:5000/v/q1w2e3r4t5y6u7i8o9p0asdfghjkl",
        "https://pb.example.cn/c/xingfuli/needs/new",
        "短码 23456789AB",
    ],
)
def test_qr_svg_decodes_to_its_data(data):
    assert decode(qr_svg(data)) == [data]


def test_label_is_escaped():
    svg = qr_svg("x", label='"><script>alert(1)</script>')
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
