"""The rules residents are shown decide, in Chromium (issue 15): the organizer on a laptop,
residents on phones, one server for the module, the demo district's round.

One test runs the steps in order on one story (each step a function named for the rule it
proves, so xdist and random ordering cannot split the story): the demo ballot closes with 16
of about 140 households (quorum not reached: nothing can be funded, the organizer adjourns
it in public); it reopens, reaches its quorum and funds only proposals above its pass
threshold; the rule is locked and a re-run with its reason is in the public log; then the
board follows the assembly's ballot.
"""

import csv
import json
import re
import urllib.request
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.e2e.staff import Staff, flash
from tests.servers import Server, civicvote, demo_ballot_id, server_env, vote_by_api

SLUG = "xingfuli"


def _get(server, path: str) -> dict:
    with urllib.request.urlopen(server.url + path) as response:
        return json.load(response)


def _vote(server, ballot_id: int, token: str, selections: list[int], key: str) -> None:
    vote_by_api(server.url, ballot_id, token, selections, key)


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    """The demo, its ballot opened and closed with 16 votes: every card for the first
    proposal, three also for the second."""
    instance = tmp_path_factory.mktemp("rules-instance")
    env = server_env(instance)
    civicvote(["seed-demo"], env)
    server = Server(env, log_path=instance / "server.log")
    server.env, server.instance = env, instance
    with (instance / "demo-cards.csv").open(encoding="utf-8") as handle:
        server.cards = [row["token"] for row in csv.DictReader(handle)]
    ballot_id = demo_ballot_id(env)
    civicvote(["ballots", "open", str(ballot_id)], env)
    ballot = _get(server, f"/api/v1/ballots/{ballot_id}")
    server.ballot_id, server.round_id = ballot_id, ballot["round_id"]
    server.proposals = [p["id"] for p in ballot["proposals"]]
    first, second = server.proposals[:2]
    for n, token in enumerate(server.cards[:16]):
        _vote(server, ballot_id, token, [first, second] if n < 3 else [first], f"a{n}")
    civicvote(["ballots", "close", str(ballot_id)], env)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def staff(story, chromium):
    laptop = Staff(chromium, story.url)
    laptop.login("organizer")
    yield laptop
    laptop.context.close()


def quorum_not_reached_publishes_no_funded_result(story, staff, phone):
    allocation = f"/console/c/{SLUG}/rounds/{story.round_id}/allocation"
    page = staff.go(allocation)
    quorum = page.locator(".quorum.not-met")
    expect(quorum).to_contain_text(re.compile(r"法定人数：需 \d+ 户，实到 16 户，未达到"))
    # No button counts a ballot below its quorum; only the outcomes the rules allow.
    expect(page.get_by_role("button", name="计票并公示初步结果")).to_have_count(0)
    screenshot(page, "rules-quorum-console")
    page.get_by_label("延期到下一次议事会；已投的票仍然有效").check()
    page.get_by_label("原因（将公开）").fill("参与户数不足，延期到下周六议事会继续投票")
    page.get_by_role("button", name="记录此决定").click()
    flash(page, "决定已记录并公开。")

    phone.goto(f"{story.url}/c/{SLUG}/rounds/{story.round_id}/results")
    main = phone.locator("main")
    # The ballot is adjourned (paused): the decision is public with the figures it answered.
    expect(main).to_contain_text(re.compile(r"决定（需 \d+，实到 16）：延期到下一次议事会"))
    expect(main).to_contain_text("参与户数不足，延期到下周六议事会继续投票")
    expect(main).to_contain_text("本年度尚未公布结果")
    expect(phone.locator("table.results")).to_have_count(0)
    screenshot(phone, "rules-quorum-results-phone")
    phone.goto(f"{story.url}/c/{SLUG}/log")
    expect(phone.locator("main")).to_contain_text("未达到法定人数")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def a_proposal_below_the_threshold_is_never_funded(story, staff, phone):
    # The adjourned ballot reopens; the rest of the households get cards and vote.
    civicvote(["ballots", "open", str(story.ballot_id)], story.env)
    more = story.instance / "more-cards.csv"
    civicvote(
        ["credentials", "issue", "--ballot", str(story.ballot_id), "--out", str(more)], story.env
    )
    with more.open(encoding="utf-8") as handle:
        tokens = [row["token"] for row in csv.DictReader(handle)]
    first = story.proposals[0]
    for n, token in enumerate(tokens[:64]):
        _vote(story, story.ballot_id, token, [first], f"b{n}")
    civicvote(["ballots", "close", str(story.ballot_id)], story.env)

    page = staff.go(f"/console/c/{SLUG}/rounds/{story.round_id}/allocation")
    expect(page.locator(".quorum.met")).to_contain_text("实到 80 户，已达到")
    page.get_by_role("button", name="计票并公示初步结果").click()
    flash(page, "初步结果已公示。")

    phone.goto(f"{story.url}/c/{SLUG}/rounds/{story.round_id}/results")
    rows = phone.locator("table.results tbody tr")
    second = rows.filter(has_text=_title(story, story.proposals[1]))
    # 3 of 80 ballots: the money was there, the threshold (more than 50%) was not met.
    expect(second).to_contain_text("未达通过门槛")
    expect(second).to_contain_text("未获资助")
    top = rows.filter(has_text=_title(story, first))
    expect(top).to_contain_text("通过")
    expect(top).to_contain_text("获得资助")
    screenshot(phone, "rules-threshold-results-phone")
    funded = {
        p["proposal_id"]
        for p in _get(story, f"/api/v1/rounds/{story.round_id}/allocation")["projects"]
        if p["funded"]
    }
    assert story.proposals[1] not in funded and first in funded


def _title(story, proposal_id: int) -> str:
    return _get(story, f"/api/v1/proposals/{proposal_id}")["title"]


def the_rule_is_locked_and_a_re_run_is_in_the_public_log(story, staff, phone):
    settings = f"/console/c/{SLUG}/rounds/{story.round_id}"
    page = staff.go(settings)
    expect(page.get_by_text("投票开始后，计票与分配方式不能再修改。")).to_be_visible()
    expect(page.locator(f'form[action="{settings}/counting"]')).to_have_count(0)
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    forged = page.request.post(
        story.url + settings + "/counting",
        form={
            "csrf_token": token,
            "allocation_rule": "mes",
            "tie_break": "lot",
            "notice_days": "7",
            "vote_unit": "household",
        },
    )
    assert forged.status == 409

    page = staff.go(f"/console/c/{SLUG}/rounds/{story.round_id}/allocation")
    rules = page.locator("#published-rules")
    expect(rules).to_contain_text("票多者优先")
    expect(page.locator("select")).to_have_count(0)  # nothing to choose: the rule is published
    page.get_by_label("重新计算的原因（例如更正了纸质选票）").fill("纸质选票更正后重新计票")
    page.get_by_role("button", name="按同一规则重新计算").click()
    flash(page, "初步结果已公示。")
    screenshot(page, "rules-rerun-console")

    phone.goto(f"{story.url}/c/{SLUG}/log")
    log = phone.locator("main")
    expect(log).to_contain_text("按同一公布规则")
    expect(log).to_contain_text("纸质选票更正后重新计票")
    screenshot(phone, "rules-rerun-log-phone")
    phone.goto(f"{story.url}/c/{SLUG}/rounds/{story.round_id}/results")
    expect(phone.locator("main")).to_contain_text("此前的结果")
    expect(phone.locator("main")).to_contain_text(
        "本结果按同一规则重新计算：纸质选票更正后重新计票"
    )


def _new_ballot(page, round_id: int, title: str) -> int:
    page.goto(f"{page.url.split('/console')[0]}/console/c/{SLUG}/rounds/{round_id}/ballots/new")
    page.locator("input[name=method][value=approval]").check()  # step 1: the method
    page.get_by_role("button", name="继续").click()
    page.get_by_label("标题").fill(title)
    page.locator("input[name=proposals]").first.check()
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(r".*/ballots/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def the_board_follows_the_assembly_s_ballot(story, staff, chromium):
    page = staff.go("/console")
    assembly_ballot = _new_ballot(page, story.round_id, "楼道议事会投票")
    staff.go(f"/console/c/{SLUG}/assemblies/new")
    page.get_by_label("投票", exact=True).select_option(str(assembly_ballot))
    page.get_by_label("标题").fill("3栋楼道议事会")
    page.get_by_label("地点").fill("3栋架空层")
    now = datetime.now(ZoneInfo("Asia/Shanghai")) - timedelta(minutes=10)
    page.locator("input[name=starts_at]").fill(now.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="保存").click()
    test_ballot = _new_ballot(page, story.round_id, "测试投票（请忽略）")
    for ballot_id in (assembly_ballot, test_ballot):
        civicvote(["ballots", "open", str(ballot_id)], story.env)

    tv_context = chromium.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    tv = tv_context.new_page()
    tv.goto(f"{story.url}/c/{SLUG}/board")
    board = tv.locator("main, body").first
    # The newer test ballot is open too; the board shows the assembly's, with its attendance.
    expect(board).to_contain_text("楼道议事会投票")
    expect(board).to_contain_text("3栋楼道议事会：已签到 0 人")
    expect(board).not_to_contain_text("测试投票（请忽略）")
    screenshot(tv, "rules-board-assembly")

    page = staff.go(f"/console/c/{SLUG}/board")
    expect(page.locator("main")).to_contain_text("正在跟随进行中的议事会：3栋楼道议事会")
    page.get_by_role("button", name=re.compile("测试投票（请忽略）")).click()
    flash(page, "大屏现在显示投票：测试投票（请忽略）")
    expect(tv.locator("body")).to_contain_text("测试投票（请忽略）", timeout=15_000)
    page.get_by_role("button", name="跟随正在进行的议事会").click()
    flash(page, "大屏将跟随正在进行的议事会。")
    expect(tv.locator("body")).to_contain_text("3栋楼道议事会：已签到 0 人", timeout=15_000)
    tv_context.close()


def test_the_rules_residents_are_shown_decide(story, staff, phone, chromium):
    quorum_not_reached_publishes_no_funded_result(story, staff, phone)
    a_proposal_below_the_threshold_is_never_funded(story, staff, phone)
    the_rule_is_locked_and_a_re_run_is_in_the_public_log(story, staff, phone)
    the_board_follows_the_assembly_s_ballot(story, staff, chromium)
