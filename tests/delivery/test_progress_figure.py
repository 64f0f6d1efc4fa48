"""One progress figure for a funded project: the board's funded panel, the project's page and
a need's journey all read it from delivery.tracking.progress_percent."""

import re
from datetime import date

from civicvote.ballots.models import BallotItem
from civicvote.board.services import snapshot
from civicvote.delivery.services import (
    add_milestone,
    complete_milestone,
    post_progress,
    sign_off_completion,
    submit_completion,
)
from civicvote.delivery.tracking import progress_percent
from civicvote.extensions import db
from tests import factories
from tests.delivery.builders import funded_project


def _board_figure(community) -> int:
    [project] = snapshot(community)["funded"]
    return project["progress_percent"]


def _shown(client, address: str, pattern: str) -> list[str]:
    page = client.get(address, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    return re.findall(pattern, page)


def test_board_project_page_and_journey_show_the_same_progress(client):
    place, project, _run, ballot, staff = funded_project()
    need = factories.need(place, project.round, status="accepted")
    project.needs = [need]
    ballot.items = [BallotItem(proposal_id=project.id, position=0)]
    db.session.commit()
    actor = staff["member"]
    first = add_milestone(project, "采购", date(2026, 5, 1), actor=actor)
    add_milestone(project, "施工", date(2026, 6, 1), actor=actor)
    assert progress_percent(project.id) == 0 == _board_figure(place)

    # No report yet: the share of milestones reached.
    complete_milestone(first, date(2026, 5, 3), actor=actor)
    assert progress_percent(project.id) == 50 == _board_figure(place)

    # The implementer's report is the figure, wherever it is shown (the board said 50% here
    # while the project page said 40% before).
    post_progress(project, "树苗已种", 40, photo=None, actor=actor)
    assert progress_percent(project.id) == 40 == _board_figure(place)
    board = _shown(client, f"/c/{place.slug}/board", r"进度 (\d+)%")
    assert board and set(board) == {"40"}
    page = _shown(
        client, f"/c/{place.slug}/projects/{project.id}", r"project-progress\">已完成 (\d+)%"
    )
    assert page == ["40"]
    journey = _shown(client, f"/c/{place.slug}/needs/{need.id}", r"已完成 (\d+)%")
    assert journey == ["40"]

    # Signed off by the committee: done, whatever the last report said.
    report = submit_completion(project, "已完工", actor=actor)
    sign_off_completion(report, "验收合格", actor=staff["supervisor"])
    assert progress_percent(project.id) == 100 == _board_figure(place)
