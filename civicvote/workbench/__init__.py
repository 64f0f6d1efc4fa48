"""The role consoles: each staff member's waiting work in a community, by role.

It reads every area below it (needs, proposals, ballots, paper ballots, objections, delivery),
so it stands on top beside the reports; the role table it follows is ``accounts.tasks``.
"""

from flask import Blueprint

bp = Blueprint("workbench", __name__)
