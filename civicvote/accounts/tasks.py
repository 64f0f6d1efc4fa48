"""Which role may do which task in a community: the one table behind the views' role checks
and the links the pages show.

A view guards itself with ``community_required(*roles_for("triage"))``; a template shows the
link to it only when ``may("triage", community)`` holds. Both read ``ROLE_TASKS``, so a page never
offers a link that its view then refuses with 403. The consoles (``civicvote/workbench``) list a
role's tasks in the order given here.
"""

from flask_login import current_user

from .models import CLERK, ORG_MEMBER, ORGANIZER, REVIEWER, SUPERVISOR

# A task is a group of console pages, named by what the person does there.
ROLE_TASKS: dict[str, tuple[str, ...]] = {
    ORGANIZER: (
        "triage",  # needs to accept, merge or decline
        "enter_needs",  # needs collected door to door or on paper; the QR poster
        "proposals",  # proposals in review, and every submitted one
        "ballots",  # the ballots and their count
        "manage_ballots",  # set a ballot up, open, pause, close it
        "objections",  # allocation, public notice and the objections to answer
        "rounds",  # a round's rules, phase and fund sources
        "registry",  # residents, households, voter cards
        "assemblies",  # the check-in desk and walk-ins
        "manage_assemblies",  # plan, edit, delete an assembly
        "paper_entry",  # hand over, print and enter paper ballots
        "paper_disputes",  # look at a disputed sheet
        "presenter",  # what the assembly screens show
        "delivery",  # funded projects' delivery pages
    ),
    REVIEWER: ("review", "proposals"),
    CLERK: ("assemblies", "paper_entry", "enter_needs", "ballots"),
    SUPERVISOR: (
        "paper_disputes",
        "settle_disputes",  # decide a disputed sheet
        "approvals",  # approve over-budget payments
        "sign_offs",  # sign off milestones and completion reports
        "delivery",
        "ballots",
    ),
    ORG_MEMBER: (
        "own_proposals",  # write, submit and withdraw the organization's proposals
        "proposals",
        "delivery",
    ),
}

# The task each role's console opens with, and the order of the roles' sections.
ROLE_ORDER = (ORGANIZER, REVIEWER, CLERK, SUPERVISOR, ORG_MEMBER)
TASKS = tuple(dict.fromkeys(task for tasks in ROLE_TASKS.values() for task in tasks))


def roles_for(task: str) -> tuple[str, ...]:
    """The roles that may do ``task``, for ``community_required``; an unknown task is a bug."""
    if task not in TASKS:
        raise KeyError(f"no such task: {task}")
    return tuple(role for role in ROLE_ORDER if task in ROLE_TASKS[role])


def user_may(user, community_id: int, task: str) -> bool:
    """Whether ``user`` (signed in) holds a role in the community that may do ``task``."""
    return bool(getattr(user, "is_authenticated", False)) and user.has_role(
        community_id, *roles_for(task)
    )


def may(task: str, community) -> bool:
    """The templates' question (a Jinja global): may the signed-in user do ``task`` here?"""
    return user_may(current_user, community.id, task)
