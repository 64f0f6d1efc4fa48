"""A resident on a hall's bad network (issue 18): scan to a usable ballot, confirm to receipt.

Usage: python bench/slow_network.py

Starts ``civicvote serve`` over a fresh demo district with its ballot open, then drives Debian
Chromium (a 360 px phone, empty cache) with the network throttled through CDP
(Network.emulateNetworkConditions) at 400 ms / 50 kbit/s and at 1,500 ms / 20 kbit/s:

- scan to ballot: from opening the card's link (/v/<token>, a redirect) until the ballot's
  submit button is visible and the page's load event has fired, with the bytes on the wire
  (CDP encodedDataLength: headers and bodies as transferred, compressed where they are);
- confirm to receipt: from tapping "confirm" on the review page until the receipt is shown.

Each figure is the median of three cards (a fresh browser context each). Prints a table.
"""

from __future__ import annotations

import csv
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.servers import Server, civicvote, demo_ballot_id, server_env

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
PROFILES = [("400 ms / 50 kbit/s", 400, 50), ("1,500 ms / 20 kbit/s", 1500, 20)]
RUNS = 3


def _throttle(context, page, latency_ms: int, kbit: int) -> dict:
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": latency_ms,
            "downloadThroughput": kbit * 1000 / 8,
            "uploadThroughput": kbit * 1000 / 8,
        },
    )
    counter = {"bytes": 0, "requests": 0}

    def finished(event):
        counter["bytes"] += event["encodedDataLength"]
        counter["requests"] += 1

    cdp.on("Network.loadingFinished", finished)
    return counter


def one_run(browser, base: str, token: str, latency_ms: int, kbit: int) -> dict:
    context = browser.new_context(
        viewport={"width": 360, "height": 740},
        locale="zh-CN",
        extra_http_headers={"Accept-Language": "zh-CN"},
    )
    page = context.new_page()
    page.set_default_timeout(120_000)
    counter = _throttle(context, page, latency_ms, kbit)
    start = time.perf_counter()
    page.goto(f"{base}/v/{token}", wait_until="load")
    page.locator("form.ballot-form button[type=submit]").wait_for(state="visible")
    usable = time.perf_counter() - start
    scan_bytes, scan_requests = counter["bytes"], counter["requests"]
    page.locator(".ballot-option").first.click()
    page.locator("form.ballot-form button[type=submit]").click()
    confirm = page.locator(".confirm-form button[name=confirm]")
    confirm.wait_for(state="visible")
    start = time.perf_counter()
    confirm.click()
    page.locator("#receipt-code").wait_for(state="visible")
    receipt = time.perf_counter() - start
    context.close()
    return {
        "usable": usable,
        "bytes": scan_bytes,
        "requests": scan_requests,
        "receipt": receipt,
    }


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        instance = Path(folder)
        env = server_env(instance)
        civicvote(["seed-demo"], env)
        civicvote(["ballots", "open", str(demo_ballot_id(env))], env)
        with (instance / "demo-cards.csv").open(encoding="utf-8") as handle:
            tokens = [row["token"] for row in csv.DictReader(handle)]
        server = Server(env, log_path=instance / "server.log")
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                print(
                    f"{'network':<22}{'scan→ballot':>13}{'bytes':>9}{'requests':>10}"
                    f"{'confirm→receipt':>17}"
                )
                for label, latency, kbit in PROFILES:
                    runs = [
                        one_run(browser, server.url, tokens.pop(0), latency, kbit)
                        for _ in range(RUNS)
                    ]
                    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
                    print(
                        f"{label:<22}{med['usable']:>12.2f}s{med['bytes']:>9,.0f}"
                        f"{med['requests']:>10.0f}{med['receipt']:>16.2f}s"
                    )
                browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
