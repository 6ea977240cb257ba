#!/usr/bin/env bash
# Installs what the tests need beyond Python packages (each part is idempotent
# and quick when already present): one script per part in scripts/test-deps/.
set -euo pipefail
cd "$(dirname "$0")/.."
for part in scripts/test-deps/*.sh; do
    [ -e "$part" ] || continue
    bash "$part"
done
