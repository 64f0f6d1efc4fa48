"""The inline SVG QR codes decode back to exactly their data (zxing-cpp reads them)."""

import pytest

from civicvote.qr import qr_svg
from tests.qr import decode


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
