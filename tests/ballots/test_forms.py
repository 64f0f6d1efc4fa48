"""The ballot form's online window: typed in the instance's local time, stored in UTC."""

from datetime import datetime
from types import SimpleNamespace

import pytest

from civicvote import create_app
from civicvote.ballots.forms import BallotForm
from tests.conftest import test_config


@pytest.mark.parametrize(
    ("zone", "local", "utc"),
    [
        ("Asia/Shanghai", "2026-05-01T19:30", datetime(2026, 5, 1, 11, 30)),
        ("Europe/Berlin", "2026-07-01T19:30", datetime(2026, 7, 1, 17, 30)),  # summer time
        ("Europe/Berlin", "2026-01-15T19:30", datetime(2026, 1, 15, 18, 30)),
    ],
)
def test_the_online_window_is_local_in_the_form_and_utc_in_storage(tmp_path, zone, local, utc):
    config = test_config("sqlite://", tmp_path)
    app = create_app({**config, "BABEL_DEFAULT_TIMEZONE": zone, "WTF_CSRF_ENABLED": False})
    fields = {"title": "t", "online_opens_at": local, "online_closes_at": ""}
    with app.test_request_context(method="POST", data=fields):
        values = BallotForm().values()
        assert values["online_opens_at"] == utc
        assert values["online_closes_at"] is None
    with app.test_request_context():
        form = BallotForm(formdata=None)
        ballot = SimpleNamespace(
            title="t",
            method="approval",
            mode="online",
            min_choices=1,
            max_choices=None,
            points_total=None,
            quorum_kind="minimum",
            quorum_value=1,
            pass_threshold_percent=50,
            results_visible_live=False,
            live_batch_size=10,
            budget_fen=None,
            online_opens_at=utc,
            online_closes_at=None,
            items=[],
        )
        form.fill_from(ballot)
        assert form.online_opens_at.data == datetime.fromisoformat(local)
        assert form.online_closes_at.data is None
