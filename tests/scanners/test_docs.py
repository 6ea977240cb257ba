"""docs/scanning.md names every finding type the scanners can produce."""

from __future__ import annotations

import re
from pathlib import Path

from proctor.scanners import injection, pii, reader, secrets
from proctor.scanners.pii import ids

DOC = (Path(__file__).parents[2] / "docs" / "scanning.md").read_text()


def _types() -> set[str]:
    found = {spec.type for spec in secrets.KEY_FORMATS}
    found |= {rule.type for rule in injection.RULES}
    found |= {spec.type for spec in ids.NATIONAL_IDS}
    sources = [Path(m.__file__ or "") for m in (secrets, injection, reader)]
    sources += Path(pii.__file__ or "").parent.glob("*.py")  # a package: every detector
    for source in sources:
        found |= set(re.findall(r'"((?:pii|secret|injection)\.[a-z_.]+)"', source.read_text()))
    return found


def test_every_finding_type_is_documented() -> None:
    missing = set()
    for kind in _types():
        short = "." + kind.rsplit(".", 1)[1]
        if f"`{kind}`" not in DOC and f"`{short}`" not in DOC:
            missing.add(kind)
    assert not missing
