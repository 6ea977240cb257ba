"""Errors of the audit package: values that cannot be encoded, records that cannot be chained."""

from __future__ import annotations

from proctor.errors import ProctorError

# A value has no RFC 8785 encoding (NaN, an integer beyond 2**53, a lone
# surrogate, a non-string key, an object that is not JSON).
AUDIT_UNENCODABLE = "audit_unencodable"
# A payload that cannot become a record (it sets a chain field, lacks its id).
AUDIT_INVALID_RECORD = "audit_invalid_record"
# A signed note or checkpoint that cannot be read (bad format, bad base64, wrong key type).
AUDIT_BAD_NOTE = "audit_bad_note"
# A checkpoint or proof whose signature or hashes do not check out.
AUDIT_PROOF_FAILED = "audit_proof_failed"


class AuditError(ProctorError):
    """An audit record or value that cannot be encoded or chained."""

    code = "audit_error"
