"""``make bench-security``: the content scanners measured on public and generated data."""
