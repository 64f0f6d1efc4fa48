"""Files for the documents a round requires of every proposal (a quotation, a site consent)."""

import io

import pytest
from PIL import Image

from civicvote.extensions import db
from civicvote.proposals.checks import automatic_checks
from civicvote.proposals.models import ProposalDocument
from civicvote.proposals.review import submit
from tests import factories

PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
REQUIRED = ["报价单", "场地同意书"]


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (0, 128, 0)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def setup(app):
    community = factories.community()
    funding_round = factories.funding_round(community, phase="costing", required_documents=REQUIRED)
    org = factories.organization(name="邻里互助社")
    member = factories.org_member(org, community, "member")
    need = factories.need(community, funding_round, title="楼道扶手")
    proposal = factories.draft(funding_round, member, needs=[need])
    factories.org_member(factories.organization(name="另一家"), community, "stranger")
    url = f"/console/c/{community.slug}/proposals/{proposal.id}"
    return community, proposal, member, url


def attach(client, url, name, data, filename, **extra):
    token = factories.csrf_token(client.get(url).get_data(as_text=True))
    form = {"csrf_token": token, "name": name, "file": (io.BytesIO(data), filename), **extra}
    return client.post(f"{url}/documents", data=form, content_type="multipart/form-data")


def missing(proposal) -> list[str]:
    [check] = [c for c in automatic_checks(proposal) if c["code"] == "documents"]
    return check["missing"]


def test_the_rule_check_follows_the_files_attached(client, setup):
    _community, proposal, _member, url = setup
    factories.login(client, "member")
    assert missing(proposal) == REQUIRED
    assert attach(client, url, "报价单", PDF, "报价单.pdf").status_code == 302
    db.session.refresh(proposal)
    assert proposal.documents == ["报价单"] and missing(proposal) == ["场地同意书"]
    assert attach(client, url, "场地同意书", png(), "consent.png").status_code == 302
    db.session.refresh(proposal)
    assert missing(proposal) == []
    page = client.get(url).get_data(as_text=True)
    assert "报价单.pdf" in page and "consent.png" in page
    # A new file replaces the old one; removing it makes the check fail again.
    assert attach(client, url, "报价单", png(), "new-quote.png").status_code == 302
    files = db.session.scalars(db.select(ProposalDocument).filter_by(proposal_id=proposal.id))
    assert sorted((d.name, d.upload.original_name) for d in files) == [
        ("场地同意书", "consent.png"),
        ("报价单", "new-quote.png"),
    ]
    token = factories.csrf_token(client.get(url).get_data(as_text=True))
    removed = client.post(
        f"{url}/documents", data={"csrf_token": token, "name": "场地同意书", "remove": "1"}
    )
    assert removed.status_code == 302
    db.session.refresh(proposal)
    assert missing(proposal) == ["场地同意书"]


def test_bad_files_and_names_are_refused_and_nothing_is_kept(client, setup):
    _community, proposal, _member, url = setup
    factories.login(client, "member")
    html = b"<html><script>alert(1)</script></html>"
    refused = attach(client, url, "报价单", html, "quote.pdf")
    assert 400 <= refused.status_code < 500
    assert attach(client, url, "营业执照", PDF, "licence.pdf").status_code == 404
    token = factories.csrf_token(client.get(url).get_data(as_text=True))
    no_file = client.post(
        f"{url}/documents",
        data={"csrf_token": token, "name": "报价单"},
        content_type="multipart/form-data",
    )
    assert no_file.status_code == 422
    none_there = client.post(
        f"{url}/documents", data={"csrf_token": token, "name": "报价单", "remove": "1"}
    )
    assert none_there.status_code == 404
    assert db.session.scalar(db.select(db.func.count()).select_from(ProposalDocument)) == 0
    db.session.refresh(proposal)
    assert proposal.documents == []


def test_only_the_organization_attaches_and_only_while_it_may_edit(client, app, setup):
    _community, proposal, member, url = setup
    factories.login(client, "stranger")
    assert attach_status(client, url) == 404  # another organization's draft does not exist
    client.get("/logout")
    factories.login(client, "member")
    assert attach(client, url, "报价单", PDF, "q.pdf").status_code == 302
    assert attach(client, url, "场地同意书", PDF, "c.pdf").status_code == 302
    db.session.refresh(proposal)  # as the submit request would load it
    submit(proposal, member)
    assert attach(client, url, "报价单", PDF, "late.pdf").status_code == 409
    # Once submitted, the files are public with the proposal.
    client.get("/logout")
    public = client.get(f"/c/{proposal.round.community.slug}/proposals/{proposal.id}")
    page = public.get_data(as_text=True)
    [quote] = [d for d in proposal.document_files if d.name == "报价单"]
    assert f"/uploads/{quote.upload.stored_name}" in page
    served = client.get(f"/uploads/{quote.upload.stored_name}")
    assert served.status_code == 200 and served.mimetype == "application/pdf"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    served.close()


def attach_status(client, url) -> int:
    """A stranger cannot even open the draft's page to get a form token: post with another."""
    token = factories.csrf_token(client.get("/account").get_data(as_text=True))
    form = {"csrf_token": token, "name": "报价单", "file": (io.BytesIO(PDF), "q.pdf")}
    response = client.post(f"{url}/documents", data=form, content_type="multipart/form-data")
    return response.status_code
