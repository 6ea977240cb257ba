"""Errors of the audit package: values that cannot be encoded, records that cannot be chained."""

from __future__ import annotations

from proctor.errors import ProctorError

# A value has no RFC 8785 encoding (NaN, an integer beyond 2**53, a lone
# surrogate, a non-string key, an object that is not JSON).
AUDIT_UNENCODABLE = "audit_unencodable"
# A payload that cannot become a record (it sets a chain field, lacks its id).
AUDIT_INVALID_RECORD = "audit_invalid_record"


class AuditError(ProctorError):
    """An audit record or value that cannot be encoded or chained."""

    code = "audit_error"
