"""Every action the audit log records, as a sentence in the reader's language.

``record()`` refuses an action that has no sentence here, so a new action cannot reach the log
(or pass its tests) without one. Each sentence names the actor as ``%(actor)s`` and the object,
linked where it has a page, as ``%(object)s``; a few take one more value from the entry
(:data:`EXTRAS`). ``MILESTONES`` are the actions after which the chain's head is signed and
published.
"""

from flask_babel import lazy_gettext as _l

SENTENCES = {
    # ballots
    "ballot.create": _l("%(actor)s created the ballot “%(object)s”"),
    "ballot.update": _l("%(actor)s changed the settings of the ballot “%(object)s”"),
    "ballot.open": _l("%(actor)s opened the ballot “%(object)s”"),
    "ballot.pause": _l("%(actor)s paused the ballot “%(object)s”"),
    "ballot.close": _l("%(actor)s closed the ballot “%(object)s”"),
    "ballot.reseal": _l(
        "%(actor)s finished the close of the ballot “%(object)s” again from the server's command "
        "line: %(sealed)s entries still in the ballot box were sealed; %(scrub)s"
    ),
    "ballot.quorum_decision": _l(
        "%(actor)s recorded that the ballot “%(object)s” closed below its quorum (%(quorum)s) "
        "and decided: %(decision)s. Reason: %(reason)s"
    ),
    "ballot.double_channel_refused": _l(
        "%(actor)s refused a second vote in the ballot “%(object)s” from a voter who had "
        "already voted another way"
    ),
    "paper_sheets.print": _l(
        "%(actor)s printed %(sheets)s paper ballot sheets for the ballot “%(object)s”"
    ),
    "paper_ballot.hand_over": _l(
        "%(actor)s handed a paper ballot of “%(object)s” to a resident on the registry"
    ),
    "paper_ballot.enter": _l("%(actor)s entered a paper ballot of “%(object)s”"),
    "paper_ballot.mismatch": _l(
        "%(actor)s found that the two entries of a paper ballot of “%(object)s” differ"
    ),
    "paper_ballot.count": _l("%(actor)s counted a paper ballot of “%(object)s”"),
    "paper_ballot.discard": _l(
        "%(actor)s set aside a paper ballot of “%(object)s” whose two entries differ"
    ),
    "paper_ballot.resolve": _l(
        "%(actor)s looked at a disputed paper ballot sheet of “%(object)s” and decided what it says"
    ),
    "credentials.issue": _l("%(actor)s issued voter cards for the ballot “%(object)s”: %(issued)s"),
    "credentials.revoke": _l("%(actor)s withdrew a voter card of the ballot “%(object)s”"),
    "credentials.walk_in": _l("%(actor)s issued a walk-in voter card for the ballot “%(object)s”"),
    # assemblies and check-in
    "assembly.create": _l("%(actor)s scheduled the assembly “%(object)s”"),
    "assembly.update": _l("%(actor)s changed the assembly “%(object)s”"),
    "assembly.delete": _l("%(actor)s cancelled the assembly “%(object)s”"),
    "checkin.create": _l("%(actor)s checked a resident in at the assembly “%(object)s”"),
    "walk_in.issue": _l(
        "%(actor)s gave a resident present at the assembly “%(object)s” a walk-in voting code, "
        "confirmed by %(confirmed_by)s; the resident's own card was withdrawn (%(reason)s)"
    ),
    # communities, accounts, organizations
    "community.create": _l("%(actor)s added the community “%(object)s”"),
    "community.update": _l("%(actor)s changed the description of the community “%(object)s”"),
    "board.panel": _l("%(actor)s changed what the public board of “%(object)s” shows"),
    "board.ballot": _l("%(actor)s chose which ballot the public board of “%(object)s” shows"),
    "user.create": _l("%(actor)s created the account “%(object)s”"),
    "user.password": _l("%(actor)s changed the password of their account"),
    "user.password_reset": _l("%(actor)s set a new password for the account “%(object)s”"),
    "user.activate": _l("%(actor)s reactivated the account “%(object)s”"),
    "user.deactivate": _l("%(actor)s deactivated the account “%(object)s”"),
    "membership.grant": _l("%(actor)s gave “%(object)s” the role %(role)s"),
    "membership.revoke": _l("%(actor)s took the role %(role)s from “%(object)s”"),
    "organization.approve": _l(
        "%(actor)s approved the registration of the social organization “%(object)s”"
    ),
    "organization.reject": _l(
        "%(actor)s turned down the registration of the social organization “%(object)s”"
    ),
    # the registry
    "registry.import": _l(
        "%(actor)s imported the resident registry of “%(object)s”: %(created)s added, "
        "%(updated)s changed, %(ineligible)s made ineligible"
    ),
    "resident.create": _l("%(actor)s added “%(object)s” to the resident registry"),
    "resident.update": _l("%(actor)s changed the registry entry of “%(object)s”"),
    # rounds and fund sources
    "round.create": _l("%(actor)s started the funding round “%(object)s”"),
    "round.rules": _l("%(actor)s changed the rules of “%(object)s”"),
    "round.advance": _l("%(actor)s moved “%(object)s” to the phase “%(phase)s”"),
    "round.counting": _l("%(actor)s changed how the votes of “%(object)s” are counted"),
    "fund_source.add": _l("%(actor)s added the fund source “%(object)s”"),
    "fund_source.update": _l("%(actor)s changed the fund source “%(object)s”"),
    "fund_source.remove": _l("%(actor)s removed the fund source “%(object)s”"),
    # needs
    "need.enter": _l("%(actor)s entered the residents' need “%(object)s”"),
    "need.accept": _l("%(actor)s accepted the need “%(object)s”"),
    "need.decline": _l("%(actor)s declined the need “%(object)s”"),
    "need.merge": _l("%(actor)s merged the need “%(object)s” into a similar one"),
    # proposals
    "proposal.create": _l("%(actor)s started the proposal “%(object)s”"),
    "proposal.edit": _l("%(actor)s revised the proposal “%(object)s”"),
    "proposal.document": _l(
        "%(actor)s attached the document “%(document)s” to the proposal “%(object)s”"
    ),
    "proposal.submit": _l("%(actor)s submitted the proposal “%(object)s” for review"),
    "proposal.approve": _l("%(actor)s approved the proposal “%(object)s” for the ballot"),
    "proposal.return": _l("%(actor)s returned the proposal “%(object)s” for revision"),
    "proposal.reject": _l("%(actor)s rejected the proposal “%(object)s”"),
    "proposal.withdraw": _l("%(actor)s withdrew the proposal “%(object)s”"),
    # results
    "allocation.run": _l(
        "%(actor)s ran the allocation of “%(object)s”: the provisional result is on public notice"
    ),
    "objection.answer": _l("%(actor)s answered an objection to the result of “%(object)s”"),
    "allocation.rerun": _l(
        "%(actor)s counted “%(object)s” again under the same published rule (%(rule)s); the "
        "earlier result, which funded %(earlier)s, stays in the history. Reason: %(reason)s"
    ),
    "objection.amend": _l(
        "%(actor)s amended the answer to an objection to the result of “%(object)s”; "
        "the earlier answer stays published"
    ),
    "allocation.finalize": _l("%(actor)s made the result of “%(object)s” final"),
    # delivery
    "milestone.add": _l("%(actor)s added the milestone “%(object)s”"),
    "milestone.complete": _l("%(actor)s reported the milestone “%(object)s” as reached"),
    "milestone.sign_off": _l("%(actor)s confirmed the milestone “%(object)s”"),
    "progress.post": _l("%(actor)s posted progress of the project “%(object)s”"),
    "spending.add": _l("%(actor)s recorded spending of %(amount)s on the project “%(object)s”"),
    "spending.approve": _l("%(actor)s approved spending of %(amount)s on the project “%(object)s”"),
    "completion.submit": _l(
        "%(actor)s submitted the completion report of the project “%(object)s”"
    ),
    "completion.sign_off": _l("%(actor)s signed off the completion of the project “%(object)s”"),
}

# A row whose action is no longer in SENTENCES (written by an older version) still reads.
UNKNOWN_ACTION = _l("%(actor)s made a change to “%(object)s”")

# After these, the chain's head is signed and published (board, report, public log, API).
MILESTONES = frozenset(
    {"ballot.open", "ballot.close", "allocation.run", "allocation.rerun", "allocation.finalize"}
)

# What each kind of object is called where its own name is unknown (removed, or never named).
OBJECT_NOUNS = {
    "allocation_run": _l("allocation result"),
    "assembly": _l("assembly"),
    "ballot": _l("ballot"),
    "community": _l("community"),
    "completion_report": _l("completion report"),
    "credential": _l("voter card"),
    "fund_source": _l("fund source"),
    "funding_round": _l("funding round"),
    "milestone": _l("milestone"),
    "need": _l("residents' need"),
    "objection": _l("objection"),
    "organization": _l("social organization"),
    "paper_ballot_entry": _l("paper ballot"),
    "progress_update": _l("progress report"),
    "proposal": _l("proposal"),
    "resident": _l("resident"),
    "spending_entry": _l("spending"),
    "user": _l("account"),
}

# How a head's milestone is named where the head is shown ("published when ...").
MILESTONE_LABELS = {
    "ballot.open": _l("a ballot opened"),
    "ballot.close": _l("a ballot closed"),
    "allocation.run": _l("the allocation ran"),
    "allocation.rerun": _l("the allocation ran again"),
    "allocation.finalize": _l("the result became final"),
}
