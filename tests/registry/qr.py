"""Reading QR codes back from the SVG we print: rasterise the path, decode with zxing-cpp."""

import re

import zxingcpp
from PIL import Image

SVG = re.compile(r"<svg\b[^>]*class=\"qr\"[^>]*>.*?</svg>", re.S)
VIEWBOX = re.compile(r'viewBox="0 0 (\d+) (\d+)"')
MODULE = re.compile(r"M(\d+),(\d+)H(\d+)V(\d+)H\d+z")


def svg_to_image(svg: str, scale: int = 6) -> Image.Image:
    """Draw every 1x1 module of qrcode's SVG path as a black square on white."""
    width, height = (int(n) for n in VIEWBOX.search(svg).groups())
    image = Image.new("L", (width * scale, height * scale), 255)
    for x, y, x2, y2 in MODULE.findall(svg):
        box = (int(x) * scale, int(y) * scale, int(x2) * scale, int(y2) * scale)
        image.paste(0, box)
    return image


def decode_svg(svg: str) -> str:
    results = zxingcpp.read_barcodes(svg_to_image(svg))
    assert len(results) == 1, "expected exactly one QR code"
    assert results[0].format == zxingcpp.BarcodeFormat.QRCode
    return results[0].text


def svgs_in(html: str) -> list[str]:
    return SVG.findall(html)
