"""Reading our inline SVG QR codes back: rasterise the module runs, decode with zxing-cpp."""

import re

import zxingcpp
from PIL import Image, ImageDraw

SVG = re.compile(r"<svg\b[^>]*class=\"qr\"[^>]*>.*?</svg>", re.S)


def rasterize(svg: str, scale: int = 6) -> Image.Image:
    """Draw the horizontal runs of dark modules that civicvote.qr.qr_svg emits."""
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


def decode_svg(svg: str) -> str:
    """The one QR code's text (asserts there is exactly one)."""
    results = zxingcpp.read_barcodes(rasterize(svg))
    assert len(results) == 1, "expected exactly one QR code"
    assert results[0].format == zxingcpp.BarcodeFormat.QRCode
    return results[0].text


def svgs_in(html: str) -> list[str]:
    return SVG.findall(html)
