"""Random garbage into the typed-code forms: the resident's vote-code page and the check-in desk.

Whatever arrives (any text, wrong lengths, extra or missing fields, bad CSRF tokens, JSON or
form posts), the answer is never a 5xx and nothing is stored: no check-in, no participation, no
ballot, no credential claimed or used. Runs on SQLite and PostgreSQL.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from civicvote.ballots.models import CastBallot, Participation
from civicvote.checkin.models import CheckIn
from civicvote.extensions import db
from civicvote.registry.credentials import issue_credentials
from civicvote.registry.models import Credential
from tests import factories

pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=400)
codeish = st.one_of(
    text,
    st.text("ABCDEFGHJKMNPQRSTVWXYZ23456789-_ ", min_size=8, max_size=24),
    st.from_regex(r"[A-Za-z0-9_-]{20,70}", fullmatch=True),
    st.just(""),
)
extra_fields = st.dictionaries(st.text("abcdefghij_", min_size=1, max_size=12), text, max_size=3)


def stored() -> tuple:
    return (
        db.session.scalar(select(func.count()).select_from(CheckIn)),
        db.session.scalar(select(func.count()).select_from(Participation)),
        db.session.scalar(select(func.count()).select_from(CastBallot)),
        db.session.scalar(
            select(func.count())
            .select_from(Credential)
            .where((Credential.claimed_at.is_not(None)) | (Credential.used_at.is_not(None)))
        ),
    )


@pytest.fixture
def hall(app):
    community = factories.community()
    funding_round = factories.funding_round(community, vote_unit="household")
    factories.registry(community, buildings=1, rooms=3, per_room=1)
    ballot = factories.ballot(funding_round, mode="mixed")
    assembly = factories.assembly(ballot)
    issue_credentials(ballot.id)
    db.session.commit()
    # Generous limits here: the point is what the forms do with garbage, not the limiter
    # (tests/checkin and tests/ballots show that guessing is limited and logged).
    app.config["RATELIMIT_CREDENTIAL"] = "100000 per minute"
    app.config["RATELIMIT_CHECKIN"] = "100000 per minute"
    return community, ballot, assembly


FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(
    code=codeish,
    ballot=st.one_of(text, st.integers(-(2**70), 2**70).map(str)),
    extra=extra_fields,
    good_csrf=st.booleans(),
)
def test_vote_code_form_never_fails_nor_stores(client, hall, code, ballot, extra, good_csrf):
    before = stored()
    page = client.get("/vote/code").get_data(as_text=True)
    token = factories.csrf_token(page) if good_csrf else "garbage"
    data = {**extra, "csrf_token": token, "code": code, "ballot": ballot}
    response = client.post("/vote/code", data=data)
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    assert response.status_code in (302, 400, 403, 422, 429)
    assert stored() == before


@FUZZ
@given(code=codeish, extra=extra_fields, good_csrf=st.booleans(), as_json=st.booleans())
def test_check_in_desk_never_fails_nor_stores(client, hall, code, extra, good_csrf, as_json):
    community, _ballot, assembly = hall
    if not getattr(client, "logged_in", False):
        factories.user(f"desk{community.id}", roles=[(community, "clerk")])
        factories.login(client, f"desk{community.id}")
        client.logged_in = True
    url = f"/console/c/{community.slug}/assemblies/{assembly.id}"
    before = stored()
    page = client.get(url).get_data(as_text=True)
    token = factories.csrf_token(page) if good_csrf else "garbage"
    headers = {"Accept": "application/json"} if as_json else {}
    response = client.post(
        url + "/check-in", data={**extra, "csrf_token": token, "code": code}, headers=headers
    )
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    assert response.status_code in (400, 404, 422, 429)
    assert stored() == before
