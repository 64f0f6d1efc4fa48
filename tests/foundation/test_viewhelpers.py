"""viewhelpers.try_service: the one way a view runs a service and shows a refusal."""

from flask import get_flashed_messages
from wtforms import StringField

from civicvote.communities.models import Community
from civicvote.errors import Conflict
from civicvote.extensions import db
from civicvote.forms import BaseForm
from civicvote.viewhelpers import try_service


class NameForm(BaseForm):
    name = StringField()


def refusing_service():
    """Writes, then refuses: what it wrote must not survive."""
    db.session.add(Community(slug="half-written", name="Half written"))
    db.session.flush()
    raise Conflict("Refused for a reason people can read.")


def _written() -> bool:
    return db.session.scalar(db.select(Community).filter_by(slug="half-written")) is not None


def test_a_refusal_is_rolled_back_and_flashed(sqlite_app):
    with sqlite_app.test_request_context(method="POST"):
        assert try_service(refusing_service) == (None, 409)
        assert not _written()
        assert get_flashed_messages(with_categories=True) == [
            ("error", "Refused for a reason people can read.")
        ]


def test_a_refusal_can_be_shown_on_a_form_field(sqlite_app):
    with sqlite_app.test_request_context(method="POST"):
        form = NameForm(meta={"csrf": False})
        assert try_service(refusing_service, field=form.name) == (None, 409)
        assert form.name.errors == ["Refused for a reason people can read."]
        assert not _written()
        assert get_flashed_messages() == []


def test_a_service_that_succeeds_gives_its_result(sqlite_app):
    with sqlite_app.test_request_context(method="POST"):
        assert try_service(lambda: 42) == (42, None)
