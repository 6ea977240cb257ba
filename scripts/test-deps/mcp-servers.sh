#!/usr/bin/env bash
# The Node MCP servers the MCP proxy tests run (tests/mcp): server-everything and
# server-filesystem, pinned by tests/mcp/servers/package-lock.json. `npm ci` runs
# only when node_modules is missing or older than the lock file.
set -euo pipefail
cd "$(dirname "$0")/../../tests/mcp/servers"
command -v npm >/dev/null 2>&1 || (apt-get update && apt-get install -y --no-install-recommends nodejs npm)
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
