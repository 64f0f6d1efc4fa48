"""Fault injection against real servers: killed workers, a restarted PostgreSQL, broken storage.

Every test here is marked ``faults`` (and ``load`` where it drives gunicorn with concurrent
voters) and kept to a few hundred voters so that the whole module stays within CI's budget.
"""

from pathlib import Path

import pytest


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if Path(item.fspath).is_relative_to(here):
            item.add_marker(pytest.mark.faults)


def worker_pids(master_pid: int) -> list[int]:
    """The gunicorn workers (children) of ``master_pid``."""
    children = []
    for task in Path(f"/proc/{master_pid}/task").iterdir():
        text = (task / "children").read_text().split()
        children += [int(pid) for pid in text]
    return children
