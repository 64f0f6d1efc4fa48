"""Reasons from the allocation rules, in the reader's language."""

from flask_babel import gettext as _
from flask_babel import ngettext

from ..i18n import money


def _names(ids, titles: dict) -> str:
    return "、".join(titles.get(str(i), str(i)) for i in ids)


def explain(reason: dict, *, titles: dict, sources: dict) -> str:
    """One stored reason (``{"code", "params"}``) as a translated sentence.

    ``titles`` maps proposal ids (text) to titles, ``sources`` fund source ids to names.
    """
    code, p = reason.get("code", ""), reason.get("params", {})
    if code == "funded":
        stage = p.get("stage")
        if stage == "equal_shares":
            return _("Funded by equal shares (round %(n)s).", n=p.get("round", ""))
        if stage == "greedy_completion":
            return _("Funded when the money left over was spent in vote order.")
        return _("Funded in vote order.")
    if code == "did_not_fit":
        return _(
            "Not funded: it costs %(cost)s but only %(available)s was left in %(sources)s.",
            cost=money(p.get("cost")),
            available=money(p.get("available")),
            sources=_names(p.get("sources", []), sources) or _("no fund source"),
        )
    if code == "below_threshold":
        return ngettext(
            "Not funded: below the pass threshold (%(num)s vote, %(required)s needed).",
            "Not funded: below the pass threshold (%(num)s votes, %(required)s needed).",
            p.get("score") or 0,
            required=p.get("required"),
        )
    if code == "not_reached":
        return _(
            "Not funded: the rule stops at the first proposal that does not fit (%(title)s).",
            title=_names([p.get("stopped_at")], titles),
        )
    if code == "no_support":
        return _("Not funded: nobody voted for it.")
    if code == "not_affordable":
        return _(
            "Not funded: its supporters' equal shares (%(money)s) could not pay its cost "
            "of %(cost)s.",
            money=money(p.get("supporters_money")),
            cost=money(p.get("cost")),
        )
    if code == "tie_broken_by":
        return _(
            "Tied with %(others)s; the order was decided by %(rule)s.",
            others=_names(p.get("tied_with", []), titles),
            rule=tie_rule(p.get("rule", "")),
        )
    return code


def tie_rule(spec: str) -> str:
    """The tie-breaking rule in words."""
    kind, _sep, seed = (spec or "").partition(":")
    if kind == "cost":
        return (
            _("lower cost first, then a lot drawn with the published seed %(seed)s", seed=seed)
            if seed
            else _("lower cost first")
        )
    if kind == "lot":
        return _("a lot drawn with the published seed %(seed)s", seed=seed)
    if kind == "lexico":
        return _("the proposal number")
    return spec
