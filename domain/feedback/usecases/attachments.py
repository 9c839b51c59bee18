"""Storing uploads: images are re-encoded (metadata stripped) with a thumbnail; PDFs kept as sent.

Blobs are written before the row; if the transaction later rolls back the blob is an orphan
that nobody can reach (every read goes through the row), never a half-visible attachment.
"""

from __future__ import annotations

import hashlib

from domain.errors import InvalidInput
from domain.feedback.model import Attachment, AttachmentKind, Report
from domain.feedback.usecases.common import UseCase
from domain.identity.principal import Principal
from domain.shared.ids import new_id

PDF_MAGIC = b"%PDF-"


async def store_upload(uc: UseCase, report: Report, principal: Principal, data: bytes,
                       kind: AttachmentKind, *, allow_pdf: bool = False) -> tuple[Attachment, bool]:
    """Store an upload; ``(attachment, False)`` when this exact file was already attached (a retry)."""
    digest = hashlib.sha256(data).hexdigest()
    for existing in await uc.d.reports.attachments(report.id):
        if existing.kind is kind and existing.source_sha256 == digest:
            return existing, False
    if len(data) > uc.d.limits.max_upload_bytes:
        raise InvalidInput("feedback.file_too_large", field="file", rule="max_size",
                           limit=uc.d.limits.max_upload_bytes)
    assert uc.d.images is not None, "wired by the composition root"
    assert uc.d.blobs is not None, "wired by the composition root"
    attachment_id = new_id()
    key = f"feedback/{report.id}/{attachment_id}"
    thumb_key: str | None = None
    if allow_pdf and data.startswith(PDF_MAGIC):
        content_type, body = "application/pdf", data
    else:
        image = await uc.d.images.process(data)
        content_type, body, thumb_key = image.content_type, image.data, key + ".thumb"
        await uc.d.blobs.put(thumb_key, image.thumbnail)
    await uc.d.blobs.put(key, body)
    attachment = Attachment(id=attachment_id, report_id=report.id, kind=kind, content_type=content_type,
                            size=len(body), blob_key=key, thumb_key=thumb_key, uploaded_by=principal.id,
                            created_at=uc.d.clock.now(), source_sha256=digest)
    await uc.d.reports.add_attachment(attachment)
    return attachment, True
