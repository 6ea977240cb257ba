#!/usr/bin/env bash
# Debian's Chromium, driven by Playwright in the dashboard's browser tests
# (tests/server/ui). Playwright downloads no browser of its own.
set -euo pipefail
command -v chromium >/dev/null 2>&1 || (apt-get update && apt-get install -y --no-install-recommends chromium)
