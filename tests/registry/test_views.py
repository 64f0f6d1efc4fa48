"""Registry pages: upload, bad-row report, staff entry and edit, access rules."""

import io

import pytest

from civicvote.audit.models import AuditEvent
from civicvote.extensions import db
from civicvote.registry.models import Resident
from tests import factories

CSV = "编号,姓名,楼栋,单元,房号,出生年份\nX1,王芳,1栋,1单元,101,1960\nX2,刘强,1栋,1单元,102,1970\n"


@pytest.fixture
def organizer(app, client):
    community = factories.community()
    factories.user("boss", roles=[(community, "organizer")])
    factories.login(client, "boss")
    return community


def _upload(client, community, data: bytes, name="registry.csv"):
    url = f"/console/c/{community.slug}/registry/import"
    token = factories.csrf_token(client.get(url).get_data(as_text=True))
    return client.post(
        url,
        data={"csrf_token": token, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_upload_gb18030_imports(organizer, client):
    response = _upload(client, organizer, CSV.encode("gb18030"))
    assert response.status_code == 303
    assert db.session.scalar(db.select(db.func.count(Resident.id))) == 2
    page = client.get(f"/console/c/{organizer.slug}/registry").get_data(as_text=True)
    assert "王芳" in page and "1栋-1单元-102" in page


def test_upload_with_bad_rows_lists_them_and_writes_nothing(organizer, client):
    bad = CSV + "X3,,1栋,1单元,103,1960\nX4,某,1栋,1单元,104,3000\n"
    response = _upload(client, organizer, bad.encode())
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert ">4<" in page and ">5<" in page
    assert db.session.scalar(db.select(db.func.count(Resident.id))) == 0


def test_upload_of_unreadable_or_missing_file_is_a_clear_4xx(organizer, client):
    assert _upload(client, organizer, b"\x81\x00\xff\xfe\x81").status_code == 422
    url = f"/console/c/{organizer.slug}/registry/import"
    token = factories.csrf_token(client.get(url).get_data(as_text=True))
    assert client.post(url, data={"csrf_token": token}).status_code == 422


def _resident_form(client, url, **overrides):
    token = factories.csrf_token(client.get(url).get_data(as_text=True))
    data = {
        "csrf_token": token,
        "external_ref": "S1",
        "name": "赵敏",
        "building": "5栋",
        "unit": "",
        "room": "501",
        "birth_year": "1988",
        "residence_status": "resident",
        "eligible": "y",
    }
    data.update(overrides)
    return client.post(url, data=data)


def test_staff_add_and_edit_resident_is_audited(organizer, client):
    new_url = f"/console/c/{organizer.slug}/registry/residents/new"
    assert _resident_form(client, new_url).status_code == 303
    resident = db.session.scalar(db.select(Resident).filter_by(external_ref="S1"))
    assert resident.household.address == "5栋-501"
    edit_url = f"/console/c/{organizer.slug}/registry/residents/{resident.id}"
    assert "赵敏" in client.get(edit_url).get_data(as_text=True)
    assert _resident_form(client, edit_url, room="502", eligible="").status_code == 303
    db.session.expire_all()
    resident = db.session.get(Resident, resident.id)
    assert resident.household.room == "502" and resident.eligible is False
    actions = [e.action for e in db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == ["resident.create", "resident.update"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"name": ""},
        {"name": "名" * 61},
        {"birth_year": "1800"},
        {"birth_year": "abc"},
        {"residence_status": "alien"},
        {"room": "9" * 21},
    ],
)
def test_bad_resident_input_is_refused(organizer, client, overrides):
    url = f"/console/c/{organizer.slug}/registry/residents/new"
    assert _resident_form(client, url, **overrides).status_code == 422
    assert db.session.scalar(db.select(db.func.count(Resident.id))) == 0


def test_duplicate_reference_is_refused(organizer, client):
    url = f"/console/c/{organizer.slug}/registry/residents/new"
    assert _resident_form(client, url).status_code == 303
    response = _resident_form(client, url, name="另一个人")
    assert response.status_code == 422
    assert db.session.scalar(db.select(db.func.count(Resident.id))) == 1


def test_resident_of_another_community_is_not_found(organizer, client):
    other = factories.community()
    stranger = factories.resident(factories.household(other))
    url = f"/console/c/{organizer.slug}/registry/residents/{stranger.id}"
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("role", ["clerk", "reviewer", "supervisor"])
def test_registry_is_for_organizers_only(app, client, role):
    community = factories.community()
    factories.user("someone", roles=[(community, role)])
    factories.login(client, "someone")
    assert client.get(f"/console/c/{community.slug}/registry").status_code == 403
    assert client.get(f"/console/c/{community.slug}/registry/import").status_code == 403


def test_anonymous_is_sent_to_login(app, client):
    community = factories.community()
    response = client.get(f"/console/c/{community.slug}/registry")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
