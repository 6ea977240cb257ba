"""The SQL both database backends share: each query stated once, rendered per dialect.

``dialect`` says how SQLite and PostgreSQL differ (placeholders, row locks);
the stores here (identity, counters, runs, approvals, provenance) run on any
``SqlDatabase``: ``proctor.storage.sqlite`` and ``proctor.storage.postgres``
give theirs, with their own connections, transactions and error translation.
"""
