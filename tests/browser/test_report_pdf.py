"""The printable round report rendered to PDF by Chromium: pages, and nothing overflowing A4."""

import csv
import json
import re
import urllib.request

from tests.browser.conftest import SCREENSHOTS, screenshot
from tests.servers import Server, civicvote, demo_ballot_id, server_env


def test_round_report_prints_to_pdf(chromium, tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    env = server_env(instance)
    civicvote(["seed-demo"], env)
    server = Server(env)
    try:
        ballot_id = demo_ballot_id(env)
        civicvote(["ballots", "open", str(ballot_id)], env)
        with (instance / "demo-cards.csv").open(encoding="utf-8") as handle:
            tokens = [row["token"] for row in csv.DictReader(handle)][:8]
        with urllib.request.urlopen(f"{server.url}/api/v1/ballots/{ballot_id}") as response:
            proposals = [p["id"] for p in json.load(response)["proposals"]]
        for n, token in enumerate(tokens):
            body = json.dumps(
                {
                    "credential": token,
                    "selections": proposals[n % 4 : n % 4 + 2],
                    "idempotency_key": f"pdf{n}",
                }
            ).encode()
            urllib.request.urlopen(
                urllib.request.Request(
                    f"{server.url}/api/v1/ballots/{ballot_id}/votes",
                    data=body,
                    headers={"Content-Type": "application/json"},
                )
            ).close()
        civicvote(["ballots", "close", str(ballot_id)], env)

        context = chromium.new_context(locale="zh-CN", viewport={"width": 794, "height": 1123})
        page = context.new_page()
        with urllib.request.urlopen(f"{server.url}/api/v1/ballots/{ballot_id}") as response:
            round_id = json.load(response)["round_id"]
        page.goto(f"{server.url}/c/xingfuli/rounds/{round_id}/report")
        assert page.get_by_role("heading", level=1).inner_text() == "年度报告"
        screenshot(page, "report-screen")
        page.emulate_media(media="print")
        overflow = page.evaluate("""() => {
            const width = document.documentElement.clientWidth;
            return [...document.querySelectorAll('main *')]
              .filter(el => el.getBoundingClientRect().right > width + 1)
              .map(el => el.tagName + '.' + el.className).slice(0, 5);
        }""")
        assert overflow == []
        pdf = page.pdf(format="A4", print_background=True)
        (SCREENSHOTS / "round-report.pdf").write_bytes(pdf)
        pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
        assert pdf.startswith(b"%PDF") and pages > 0
        context.close()
    finally:
        server.stop()
