"""The MCP proxy bench's in-process part runs against the relay as it is (no pipes, no server)."""

from __future__ import annotations

import asyncio

from benchmarks.mcp_proxy import _proxy_work


def test_the_proxy_s_own_work_per_call_is_measured() -> None:
    work = asyncio.run(_proxy_work(20))
    assert work
    assert all(value > 0 for value in work.values()), work
