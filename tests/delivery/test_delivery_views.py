"""The public project page, the delivery console's roles, uploads through forms, ratings."""

import io
from datetime import date
from pathlib import Path

from PIL import Image

from civicvote.delivery.models import SpendingEntry
from civicvote.extensions import db
from civicvote.proposals.models import Milestone
from civicvote.uploads.models import Upload
from tests import factories
from tests.delivery.builders import funded_project, voter_card


def _console(client, place, proposal):
    return f"/console/c/{place.slug}/projects/{proposal.id}"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (0, 128, 0)).save(out, format="PNG")
    return out.getvalue()


def test_public_project_page_shows_budget_and_hides_unfunded(client):
    place, proposal, run, _ballot, _staff = funded_project()
    page = client.get(f"/c/{place.slug}/projects/{proposal.id}").get_data(as_text=True)
    assert "中心花园补绿" in page and "¥2,000.00" in page and "树苗" in page
    listing = client.get(f"/c/{place.slug}/projects").get_data(as_text=True)
    assert f"/c/{place.slug}/projects/{proposal.id}" in listing
    run.status = "provisional"
    db.session.commit()
    assert client.get(f"/c/{place.slug}/projects/{proposal.id}").status_code == 404


def test_console_roles(client):
    place, proposal, _run, _ballot, staff = funded_project()
    url = _console(client, place, proposal)
    assert client.get(url).status_code == 302  # anonymous → login
    factories.login(client, staff["outsider"].username)
    page = client.get(url)
    assert page.status_code == 200
    token = factories.csrf_token(page.get_data(as_text=True))
    # A member of another organization may look but not report.
    refused = client.post(
        url,
        data={"csrf_token": token, "action": "milestone", "ms-csrf_token": token, "ms-title": "x"},
    )
    assert refused.status_code == 403
    assert db.session.scalar(db.select(db.func.count(Milestone.id))) == 0


def test_member_reports_and_supervisor_signs_off_through_forms(client):
    place, proposal, _run, _ballot, staff = funded_project()
    url = _console(client, place, proposal)
    factories.login(client, staff["member"].username)
    token = factories.csrf_token(client.get(url).get_data(as_text=True))
    added = client.post(
        url,
        data={
            "action": "milestone",
            "ms-csrf_token": token,
            "ms-title": "树苗种植",
            "ms-planned_date": "2026-03-01",
        },
    )
    assert added.status_code == 302
    milestone = db.session.scalar(db.select(Milestone))
    done = client.post(
        url,
        data={
            "action": "done",
            "milestone": milestone.id,
            "done-csrf_token": token,
            "done-actual_date": date.today().isoformat(),
        },
    )
    assert done.status_code == 302
    progress = client.post(
        url,
        content_type="multipart/form-data",
        data={
            "action": "progress",
            "pg-csrf_token": token,
            "pg-text": "种下10棵树",
            "pg-percent": "50",
            "pg-photo": (io.BytesIO(_png()), "tree.pdf"),
        },
    )
    assert progress.status_code == 302
    upload = db.session.scalar(db.select(Upload))
    assert upload.content_type == "image/png"
    served = client.get(f"/uploads/{upload.stored_name}")
    assert served.status_code == 200 and served.mimetype == "image/png"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    served.close()
    client.post("/logout", data={"csrf_token": token})

    factories.login(client, staff["supervisor"].username)
    token = factories.csrf_token(client.get(url).get_data(as_text=True))
    signed = client.post(
        url,
        data={
            "action": "signoff",
            "milestone": milestone.id,
            "so-csrf_token": token,
            "so-comment": "已验收",
        },
    )
    assert signed.status_code == 302
    public = client.get(f"/c/{place.slug}/projects/{proposal.id}").get_data(as_text=True)
    assert "已验收" in public and "种下10棵树" in public


def test_spending_form_validates_money(client):
    place, proposal, _run, _ballot, staff = funded_project()
    url = _console(client, place, proposal)
    factories.login(client, staff["member"].username)
    token = factories.csrf_token(client.get(url).get_data(as_text=True))
    base = {
        "action": "spending",
        "sp-csrf_token": token,
        "sp-spent_on": "2026-01-05",
        "sp-item": "<script>alert(1)</script>",
        "sp-payee": "苗圃",
        "sp-line_item": "0",
        "sp-fund_source": str(proposal.round.fund_sources[0].id),
    }
    for bad in ("abc", "-5", "1.234", "1e5", "0", "100000000.01", "NaN"):
        response = client.post(url, data={**base, "sp-amount": bad})
        assert response.status_code == 422, bad
    assert db.session.scalar(db.select(db.func.count(SpendingEntry.id))) == 0
    good = client.post(url, data={**base, "sp-amount": "¥1,250.50"})
    assert good.status_code == 302
    entry = db.session.scalar(db.select(SpendingEntry))
    assert entry.amount_fen == 125050 and entry.over_budget  # not in the budget: flagged
    public = client.get(f"/c/{place.slug}/projects/{proposal.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in public
    assert "&lt;script&gt;" in public


def _post_photo(client, url: str, token: str, content: bytes, name: str):
    """A progress update with ``content`` as its photo."""
    data = {"action": "progress", "pg-csrf_token": token, "pg-text": "x", "pg-percent": "10"}
    data["pg-photo"] = (io.BytesIO(content), name)
    return client.post(url, content_type="multipart/form-data", data=data)


def test_a_bad_upload_is_refused_with_a_message_and_nothing_saved(client):
    place, proposal, _run, _ballot, staff = funded_project()
    url = _console(client, place, proposal)
    factories.login(client, staff["member"].username)
    token = factories.csrf_token(client.get(url).get_data(as_text=True))
    response = _post_photo(client, url, token, b"<svg><script>1</script></svg>", "a.png")
    assert response.status_code == 422
    assert "只能上传" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Upload.id))) == 0


def test_resident_rates_with_a_card_code(client):
    place, proposal, _run, ballot, staff = funded_project()
    from civicvote.delivery.services import submit_completion

    submit_completion(proposal, "完成", actor=staff["member"])
    _token, short = voter_card(ballot)
    url = f"/c/{place.slug}/projects/{proposal.id}/rate"
    token = factories.csrf_token(client.get(url).get_data(as_text=True))
    wrong = client.post(url, data={"csrf_token": token, "code": "WRONGCODE1", "score": "5"})
    assert wrong.status_code == 403
    assert "无效" in wrong.get_data(as_text=True)
    bad_score = client.post(url, data={"csrf_token": token, "code": short, "score": "9"})
    assert bad_score.status_code == 422
    saved = client.post(
        url, data={"csrf_token": token, "code": short, "score": "4", "comment": "很好"}
    )
    assert saved.status_code == 302
    page = client.get(f"/c/{place.slug}/projects/{proposal.id}").get_data(as_text=True)
    assert "4" in page and "1" in page


def test_a_pdf_progress_photo_is_refused_and_the_project_page_stands(client, app):
    """Fails on the old code: the PDF was taken as a photo and the public page answered 500."""
    place, proposal, _run, _ballot, staff = funded_project()
    url = _console(client, place, proposal)
    factories.login(client, staff["member"].username)
    token = factories.csrf_token(client.get(url).get_data(as_text=True))
    pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    response = _post_photo(client, url, token, pdf, "photo.pdf")
    assert response.status_code == 422
    assert db.session.scalar(db.select(db.func.count(Upload.id))) == 0
    folder = Path(app.instance_path) / "uploads"
    assert not folder.is_dir() or list(folder.iterdir()) == []
    assert client.get(f"/c/{place.slug}/projects/{proposal.id}").status_code == 200
