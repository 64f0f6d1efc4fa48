"""The shared QR reader (tests/qr.py), under the names the registry tests use."""

from tests.qr import decode_svg, svgs_in  # noqa: F401
