"""Whether a preview is the engine's own: the binding its audit record holds, and the seal only the engine can make.

Anyone who can append to the audit trail (the store's credentials) can record any binding, so the record alone
vouches for nothing; the seal is the binding signed with the key that signs audit checkpoints (the Notary), which
stays with the servers."""

from __future__ import annotations

from engine.audit.checkpoints import Notary
from engine.errors import DataMcpError
from engine.operations.parts import Parts
from engine.previews import PreviewRecord
from engine.trust import canonical_json


def _payload(binding: str) -> bytes:
    """What a seal signs: the binding, under a name no checkpoint or approval payload has."""
    return canonical_json({"datamcp_preview_seal": binding})


def seal(notary: Notary, preview: PreviewRecord, binding: str | None = None) -> str:
    """The seal the engine stores with a preview it made (`binding`: the preview's, when the caller has it)."""
    return notary.key.sign(_payload(binding if binding is not None else preview.binding()))


def sealed(notary: Notary, preview: PreviewRecord, binding: str | None = None) -> bool:
    """The preview carries the engine's seal of its binding as it is now (not a copy's, not an edited one's);
    `binding`: the preview's, when the caller has taken it already."""
    try:
        notary.verifier.verify(_payload(binding if binding is not None else preview.binding()), preview.seal)
    except DataMcpError:
        return False
    return True


def recorded_binding(parts: Parts, preview: PreviewRecord) -> str | None:
    """The binding the audit trail recorded when the preview operation finished (None: no such record)."""
    record = parts.audit.get(preview.operation_id)
    binding = record.summary.get("binding") if record is not None else None
    return binding if isinstance(binding, str) else None


def vouched_for(parts: Parts, preview: PreviewRecord) -> bool:
    """The engine made this exact preview: sealed by its notary, and the binding its audit record holds."""
    binding = preview.binding()
    return sealed(parts.audit.notary, preview, binding) and recorded_binding(parts, preview) == binding
