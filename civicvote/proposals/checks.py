"""The round's automatic checks on a proposal, and each check in words."""

from flask_babel import gettext as _

from ..i18n import money
from .models import Proposal


def automatic_checks(proposal: Proposal) -> list[dict]:
    """The round's rules applied to the proposal. Each check: code, ok, and its numbers."""
    funding_round = proposal.round
    checks = [
        {"code": "items", "ok": bool(proposal.line_items)},
        {"code": "needs", "ok": bool(proposal.needs)},
        {"code": "category", "ok": proposal.category_code in funding_round.category_codes()},
    ]
    if funding_round.per_project_cap_fen:
        checks.append(
            {
                "code": "cap",
                "ok": proposal.total_fen <= funding_round.per_project_cap_fen,
                "limit_fen": funding_round.per_project_cap_fen,
                "total_fen": proposal.total_fen,
            }
        )
    checks.append(
        {
            "code": "budget",
            "ok": proposal.total_fen <= funding_round.budget_fen,
            "limit_fen": funding_round.budget_fen,
            "total_fen": proposal.total_fen,
        }
    )
    required = list(funding_round.required_documents or [])
    if required:
        missing = [d for d in required if d not in (proposal.documents or [])]
        checks.append({"code": "documents", "ok": not missing, "missing": missing})
    return checks


def check_message(check: dict) -> str:
    """A check in words, in the active language."""
    code, ok = check["code"], check["ok"]
    if code == "items":
        return _("Has line items.") if ok else _("Has no line items.")
    if code == "needs":
        return _("Answers accepted needs.") if ok else _("Answers no accepted need.")
    if code == "category":
        return (
            _("Category allowed in this round.") if ok else _("Category not allowed in this round.")
        )
    if code == "cap":
        return (
            _(
                "Total %(total)s is within the cap per project of %(limit)s.",
                total=money(check["total_fen"]),
                limit=money(check["limit_fen"]),
            )
            if ok
            else _(
                "Total %(total)s is over the cap per project of %(limit)s.",
                total=money(check["total_fen"]),
                limit=money(check["limit_fen"]),
            )
        )
    if code == "budget":
        return (
            _(
                "Total %(total)s is within the round's budget of %(limit)s.",
                total=money(check["total_fen"]),
                limit=money(check["limit_fen"]),
            )
            if ok
            else _(
                "Total %(total)s is over the round's budget of %(limit)s.",
                total=money(check["total_fen"]),
                limit=money(check["limit_fen"]),
            )
        )
    if code == "documents":
        return (
            _("All required documents provided.")
            if ok
            else _(
                "Missing documents: %(names)s",
                # TRANSLATORS: the separator between items of a list
                names=_(", ").join(check.get("missing", [])),
            )
        )
    return code
