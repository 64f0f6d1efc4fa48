"""The round's allocation rule and completion in plain words, for residents before the vote.

The community page states exactly how the money will be shared out (issue 19: "the exact rule
and options are stated on the community page before the vote"); the same words appear wherever
a round's rule is described to residents (templates/results/_rule_description.html).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

# What the rule does, in one sentence each, for elderly residents.
_RULE_SENTENCES = {
    "greedy": _l(
        "Projects are funded in order of votes, most votes first; a project that no longer "
        "fits in the money left is skipped and the next one is tried."
    ),
    "greedy-no-skip": _l(
        "Projects are funded in order of votes, most votes first, stopping at the first "
        "project that no longer fits in the money left."
    ),
    "mes": _l(
        "Shared out by the Method of Equal Shares (MES): the budget is split into equal shares, "
        "one per voter, and each project is paid only from the shares of the voters who chose it."
    ),
}
# How Equal Shares spends what its first pass leaves (rounds.models.COMPLETION_LABELS).
_COMPLETION_SENTENCES = {
    "none": _l("Money the first pass cannot spend is left unspent."),
    "add1": _l(
        "Then every voter's share is raised one yuan at a time (add1) while the result still "
        "fits the budget."
    ),
    "add1+greedy": _l(
        "Then every voter's share is raised one yuan at a time (add1) while the result still "
        "fits the budget, and the money still left funds the projects with the most votes "
        "that fit."
    ),
    "add1+greedy+compare": _l(
        "Then every voter's share is raised one yuan at a time (add1) while the result still "
        "fits the budget, and the money still left funds the projects with the most votes "
        "that fit. Finally, if more voters would see more of their choices funded by simply "
        "funding the most voted projects, that result is taken instead."
    ),
}


def rule_sentences(funding_round) -> list[str]:
    """The round's rule and, for Equal Shares, its completion, as sentences to show."""
    rule = funding_round.allocation_rule
    first = _RULE_SENTENCES.get(rule)
    if first is None:
        return [str(funding_round.rule_label)]
    sentences = [str(first)]
    if rule == "mes":
        completion = _COMPLETION_SENTENCES.get(funding_round.mes_completion or "add1")
        if completion is not None:
            sentences.append(str(completion))
    return sentences
