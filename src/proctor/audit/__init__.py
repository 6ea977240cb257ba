"""The audit trail's pure core: canonical encoding (RFC 8785), the hash chain and its verification.

No I/O here: stores live in ``proctor.storage`` and call into this package.
"""
