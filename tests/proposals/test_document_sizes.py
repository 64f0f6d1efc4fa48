"""A document's size as people read it: "400 字节", not "0 KB"."""

import pytest
from flask_babel import force_locale

from civicvote.i18n import file_size
from tests import factories
from tests.proposals.test_documents import PDF, attach, setup  # noqa: F401 (the fixture)


@pytest.mark.parametrize(
    "size,chinese,english",
    [
        (0, "0 字节", "0 bytes"),
        (1, "1 字节", "1 byte"),
        (400, "400 字节", "400 bytes"),
        (1023, "1,023 字节", "1,023 bytes"),
        (1024, "1 KB", "1 KB"),
        (1229, "1.2 KB", "1.2 KB"),
        (512_000, "500 KB", "500 KB"),
        (10 * 1024 * 1024, "10 MB", "10 MB"),
        (1_572_864, "1.5 MB", "1.5 MB"),
    ],
)
def test_sizes_in_both_languages(app, size, chinese, english):
    with app.test_request_context():
        with force_locale("zh_Hans"):
            assert file_size(size) == chinese
        with force_locale("en"):
            assert file_size(size) == english
        assert file_size(None) == ""


def test_a_400_byte_pdf_is_shown_as_400_bytes(client, setup):  # noqa: F811
    _community, _proposal, _member, url = setup
    factories.login(client, "member")
    pdf = PDF + b"%" + b"x" * (400 - len(PDF) - 2) + b"\n"
    assert len(pdf) == 400
    assert attach(client, url, "报价单", pdf, "报价单.pdf").status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "(400 字节)" in page and "0 KB" not in page
