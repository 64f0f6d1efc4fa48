"""The documents a round requires of every proposal: attaching and removing their files."""

from flask_babel import lazy_gettext as _l

from ..audit.services import record
from ..errors import NotFound
from ..extensions import db
from ..uploads.storage import store_upload
from .access import require_editable
from .models import Proposal, ProposalDocument


def _record_documents(proposal: Proposal, user, name: str, file_name: str | None) -> None:
    proposal.documents = [d.name for d in proposal.document_files]
    record(
        "proposal.document",
        "proposal",
        proposal.id,
        actor=user,
        community_id=proposal.round.community_id,
        after={"document": name, "file": file_name},
        public=proposal.version > 0,
    )
    db.session.commit()


def attach_document(
    proposal: Proposal, user, name: str, data: bytes, file_name: str, *, instance_path: str
) -> ProposalDocument:
    """Attach (or replace) the file for one of the round's required documents.

    The file is checked and cleaned like every upload (PDF or image, at most 10 MB).
    """
    require_editable(user, proposal)
    if name not in (proposal.round.required_documents or []):
        raise NotFound(_l("This round does not ask for that document."), code="unknown_document")
    upload = store_upload(data, file_name, instance_path=instance_path, uploaded_by_id=user.id)
    for old in [d for d in proposal.document_files if d.name == name]:
        proposal.document_files.remove(old)
    db.session.flush()  # the old row goes before the new one takes its (proposal, name)
    document = ProposalDocument(name=name, upload=upload)
    proposal.document_files.append(document)
    db.session.flush()
    _record_documents(proposal, user, name, upload.original_name)
    return document


def remove_document(proposal: Proposal, user, name: str) -> None:
    """Remove the file attached for one of the round's required documents."""
    require_editable(user, proposal)
    found = [d for d in proposal.document_files if d.name == name]
    if not found:
        raise NotFound(_l("No file is attached for this document."), code="no_document")
    proposal.document_files.remove(found[0])
    db.session.flush()
    _record_documents(proposal, user, name, None)
