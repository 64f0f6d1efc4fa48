"""What a hostile organizer does with the printed cards and copies of the database.

Votes are cast here the three ways residents cast them (the JSON API, the web form with its
CSRF token, and paper handed over at the desk and entered by two clerks by sheet number); the
attacks read only what an insider without the server's secret key holds: the cards (token and
short code of each voter), the printed sheets' numbers and the database.
"""

import hashlib
import hmac
import itertools
import json
import re
from dataclasses import dataclass

from sqlalchemy import MetaData, select
from werkzeug.datastructures import MultiDict

from civicvote.accounts.models import CLERK, ORGANIZER
from civicvote.voting import paper
from civicvote.voting.paper_sheets import batch_numbers, format_sheet_number, print_sheets
from tests import factories
from tests.conftest import IsolatedClient


@dataclass
class Voter:
    key: str
    token: str
    short_code: str
    channel: str
    contents: dict


def secret_ballot(proposals: int = 6):
    """An open approval ballot whose voters each choose a different set of proposals (so that
    a link, if the attack finds one, names exactly one voter)."""
    return factories.ballot(proposals=proposals, mode="mixed", max_choices=None, min_choices=1)


def choice_sets(ballot) -> list[dict]:
    """Every valid contents of the ballot: what the attacker tries for each card."""
    ids = sorted(item.proposal_id for item in ballot.items)
    sets = []
    for size in range(1, len(ids) + 1):
        sets += [{"selections": list(c)} for c in itertools.combinations(ids, size)]
    return sets


def _hidden(page: str) -> MultiDict:
    return MultiDict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))


def browser(app):
    """A test client whose requests run in blank contexts, as on a real server."""
    app.test_client_class = IsolatedClient
    return app.test_client()


def vote_web(app, ballot, token: str, selections: list[int], client=None) -> None:
    """Scan the card's link, choose, review, confirm: as a phone without JavaScript does
    (on ``client``, a browser that may be shared, else a new one)."""
    client = client or browser(app)
    assert client.get(f"/v/{token}").status_code == 302
    page = client.get(f"/ballots/{ballot.id}/vote").get_data(as_text=True)
    review = client.post(
        f"/ballots/{ballot.id}/review",
        data={"csrf_token": factories.csrf_token(page), "selection": [str(s) for s in selections]},
        follow_redirects=True,
    )
    assert review.status_code == 200, review.get_data(as_text=True)
    cast = client.post(f"/ballots/{ballot.id}/cast", data=_hidden(review.get_data(as_text=True)))
    assert cast.status_code in (302, 303), cast.get_data(as_text=True)


def vote_api(app, ballot, token: str, selections: list[int], key: str) -> None:
    body = {"credential": token, "selections": selections, "idempotency_key": key}
    answer = browser(app).post(
        f"/api/v1/ballots/{ballot.id}/votes", data=json.dumps(body), content_type="application/json"
    )
    assert answer.status_code == 201, answer.get_data(as_text=True)


def vote_paper(ballot, resident_id: int, number: str, selections: list[int], staff, after_each):
    """A clerk hands a paper ballot to the resident; two clerks enter the printed sheet they
    filled in, by its number. ``after_each()`` runs after every commit (hand-over, entries)."""
    clerk1, clerk2 = staff
    voter = paper.hand_over(ballot.id, resident_id, clerk=clerk1)
    after_each()
    for clerk in (clerk1, clerk2):
        paper.enter_sheet(ballot.id, number, {"selections": selections}, clerk=clerk)
        after_each()
    return voter.key


def _paper_desk(ballot, channels: dict[str, int]):
    """Real households for every voter (a paper ballot goes to a registered resident), the
    sheets printed for the paper ones, and two clerks."""
    community = ballot.round.community
    total = sum(channels.values())
    households = factories.registry(community, buildings=1, rooms=total, per_room=1)
    organizer, *clerks = (
        factories.user(roles=[(community, role)]) for role in (ORGANIZER, CLERK, CLERK)
    )
    printed = print_sheets(ballot, channels["paper"], "attack", actor=organizer)
    return iter(households), iter(batch_numbers(printed.batch)), clerks


def cast_votes(app, ballot, channels: dict[str, int], after_each=None) -> list[Voter]:
    """Cast ``channels[name]`` votes through each channel ("api", "web", "paper"), each voter
    with different choices; ``after_each()`` runs after every vote (a snapshot of the files;
    for paper, after the hand-over and after each entry)."""
    sets = iter(choice_sets(ballot))
    after_each = after_each or (lambda: None)
    households = numbers = clerks = None
    if channels.get("paper"):
        households, numbers, clerks = _paper_desk(ballot, channels)
    voters = []
    for channel, count in channels.items():
        for n in range(count):
            contents = next(sets)
            # With a registry, every voter is one of its households (keys never collide).
            household = next(households) if households is not None else None
            if channel == "paper":
                number = next(numbers)
                resident = household.residents[0]
                key = vote_paper(
                    ballot, resident.id, number, contents["selections"], clerks, after_each
                )
                voters.append(Voter(key, number, format_sheet_number(number), channel, contents))
                continue
            credential, token, short = factories.credential(
                ballot, f"h{household.id}" if household is not None else None
            )
            if channel == "api":
                vote_api(app, ballot, token, contents["selections"], f"api-key-{n}")
            else:
                vote_web(app, ballot, token, contents["selections"])
            voters.append(Voter(credential.voter_key, token, short, channel, contents))
            after_each()
    return voters


def canonical(contents: dict) -> str:
    return json.dumps(contents, sort_keys=True, separators=(",", ":"))


def _derived(secret: str, body: str) -> set[str]:
    """What a card secret and a ballot's contents can be turned into without any other key."""
    found = set()
    for label in ("", "request:", "contents:", "vote:", "ballot:"):
        mac = hmac.new(secret.encode(), (label + body).encode(), hashlib.sha256)
        found |= {mac.hexdigest(), mac.digest().hex()}
        found.add(hashlib.sha256((secret + label + body).encode()).hexdigest())
        found.add(hashlib.sha256((label + body + secret).encode()).hexdigest())
    return found


def stored_values(connection) -> set[str]:
    """Every value of every row of every table, as text (bytes as hex)."""
    metadata = MetaData()
    metadata.reflect(bind=connection)
    values = set()
    for table in metadata.sorted_tables:
        for row in connection.execute(select(table)):
            for value in row:
                if isinstance(value, (bytes, memoryview)):
                    values.add(bytes(value).hex())
                elif value is not None:
                    values.add(str(value))
    return values


def brute_force_links(voters: list[Voter], ballot, values: set[str]) -> dict[str, dict]:
    """For each card, try every choice set against everything stored: the voters whose
    contents some stored value gives away, with the contents it gives."""
    sets = choice_sets(ballot)
    links = {}
    for voter in voters:
        secrets_ = {voter.token, voter.short_code, voter.short_code.replace("-", "")}
        for contents in sets:
            body = canonical(contents)
            if any(candidate in values for s in secrets_ for candidate in _derived(s, body)):
                links[voter.key] = contents
    return links


def all_rows(connection) -> dict[str, set[tuple]]:
    """Each table's rows, as sorted (column, text) pairs, to diff two copies of a database."""
    metadata = MetaData()
    metadata.reflect(bind=connection)
    return {
        table.name: {
            tuple(sorted((k, _text(v)) for k, v in row._mapping.items()))
            for row in connection.execute(select(table))
        }
        for table in metadata.sorted_tables
    }


def _text(value):
    if isinstance(value, (bytes, memoryview)):
        return bytes(value).hex()
    return None if value is None else str(value)


def readable_contents(values) -> list[dict]:
    """Ballot contents readable in clear among ``values``."""
    found = []
    for value in values:
        if value and "selections" in value:
            try:
                parsed = json.loads(value)
            except (TypeError, ValueError):
                continue
            if isinstance(parsed, dict) and "selections" in parsed:
                found.append(parsed)
    return found
