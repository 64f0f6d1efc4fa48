"""QR codes as plain SVG (no inline styles, so the strict CSP allows them)."""

import re

import qrcode
import qrcode.image.svg
from markupsafe import Markup, escape


def qr_svg(data: str, label: str) -> Markup:
    """An SVG QR code of ``data`` with fill attributes only, scaled by CSS."""
    image = qrcode.make(
        data,
        image_factory=qrcode.image.svg.SvgPathImage,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=4,
    )
    text = image.to_string(encoding="unicode")
    view_box = re.search(r'viewBox="([^"]+)"', text).group(1)
    path = re.search(r'<path[^>]* d="([^"]+)"', text).group(1)
    size = view_box.split()[2]
    return Markup(
        '<svg class="qr" xmlns="http://www.w3.org/2000/svg" viewBox="{vb}" role="img" '
        'aria-label="{label}" shape-rendering="crispEdges">'
        '<rect width="{size}" height="{size}" fill="#fff"/>'
        '<path d="{path}" fill="#000"/></svg>'
    ).format(vb=view_box, label=escape(label), size=size, path=path)
