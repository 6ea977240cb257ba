#!/usr/bin/env bash
# Node 22 (the npm `node` package: the suite needs Node >= 22, the machine's own node may be
# older) and the official MCP conformance suite (@modelcontextprotocol/conformance), pinned
# by tests/mcp/conformance/package-lock.json, into tests/mcp/conformance/node_modules, which
# tests/mcp/test_conformance.py runs. `npm ci` runs only when node_modules is missing or
# older than the lock file, or its node is not the pinned one.
set -euo pipefail
cd "$(dirname "$0")/../../tests/mcp/conformance"
command -v npm >/dev/null 2>&1 || (apt-get update && apt-get install -y --no-install-recommends nodejs npm)
stamp=node_modules/.package-lock.json
pinned=$(sed -n 's/.*"node": "\([0-9.]*\)".*/\1/p' package.json)
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] \
    || [ "$(node_modules/.bin/node --version 2>/dev/null)" != "v$pinned" ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
