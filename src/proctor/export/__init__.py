"""Audit export: JSONL and OCSF encodings, and a streaming sink with a resume cursor.

docs/observability.md describes the formats, the OCSF mapping and the
delivery guarantees.
"""
