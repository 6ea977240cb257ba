"""Section 2b's texts read from files installed on this machine (offline, read only).

Documentation and data shipped by Debian packages (``/usr/share/doc``,
``/usr/include``, ``/var/log``, ``/var/lib/dpkg/status``) and by the PyPI
packages of the running interpreter (``site-packages``): source code in five
languages, CSV/TSV, JSON, YAML, HTML pages, logs, markdown, and Debian
changelog entries (security fixes named by CVE). Files are listed in sorted
order and sampled with a seeded generator; each text is a piece of at most
``MAX_CHARS`` characters cut at a line end (JSON: one element of a file).
What a machine has installed decides the exact texts: the counts per format
are reported with the results.

Files are split in two by a hash of their path (``part_of``): the bench reads
only the ``bench`` half, the classifier's training script
(``scripts/train_injection_classifier.py``) only the ``train`` half, so no
file the model learnt from is measured here.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import sys
import sysconfig
from collections.abc import Iterable, Iterator
from pathlib import Path

MAX_CHARS = 2048
MIN_CHARS = 120
PURELIB = Path(sysconfig.get_paths()["purelib"])
ROOTS = (PURELIB, Path("/usr/share"), Path("/usr/include"), Path(sys.prefix))
CODE = {
    "code.python": ("*.py",),
    "code.c": ("*.c", "*.h"),
    "code.javascript": ("*.js",),
    "code.shell": ("*.sh",),
    "code.go": ("*.go",),
}
DATA = {"csv": ("*.csv",), "tsv": ("*.tsv",), "yaml": ("*.yaml", "*.yml"), "markdown": ("*.md",)}
PARTS = ("bench", "train")
BENCH = "bench"


def part_of(path: Path) -> str:
    """``"train"`` or ``"bench"``: which half a file belongs to, by a hash of its path
    (relative to its package directory, so a venv elsewhere splits the same way)."""
    key = "/".join(path.parts[-3:]).encode("utf-8", "surrogateescape")
    return PARTS[hashlib.blake2b(key, digest_size=4).digest()[0] & 1]


def files(patterns: Iterable[str], roots: Iterable[Path] = ROOTS, part: str = BENCH) -> list[Path]:
    found: set[Path] = set()
    for root in roots:
        if root.is_dir():
            for pattern in patterns:
                found.update(
                    p
                    for p in root.rglob(pattern)
                    if p.is_file() and part_of(p) == part and _readable(p)
                )
    return sorted(found)


def _readable(path: Path) -> bool:
    try:
        return 200 <= path.stat().st_size <= 5_000_000
    except OSError:
        return False


def _text(path: Path) -> str:
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        return raw.decode("utf-8")
    except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile):
        return ""


def pieces(text: str, header: str = "") -> Iterator[str]:
    """``text`` cut at line ends into pieces of at most ``MAX_CHARS`` (``header`` atop each)."""
    piece = header
    for line in text.splitlines(keepends=True):
        if len(piece) + len(line) > MAX_CHARS and len(piece) > len(header):
            if len(piece.strip()) >= MIN_CHARS:
                yield piece
            piece = header
        if len(line) <= MAX_CHARS - len(header):
            piece += line
    if len(piece.strip()) >= MIN_CHARS and len(piece) > len(header):
        yield piece


def sample(paths: list[Path], want: int, rng: random.Random, *, keep_header: bool) -> list[str]:
    """Up to ``want`` pieces from the files, a few from each file in a seeded order."""
    order = list(paths)
    rng.shuffle(order)
    out: list[str] = []
    per_file = max(1, want // max(1, len(order)) + 1)
    for path in order:
        text = _text(path)
        header = text.splitlines(keepends=True)[0] if keepends(text, keep_header) else ""
        body = text[len(header) :]
        out.extend(list(pieces(body, header))[: per_file * 4][:per_file])
        if len(out) >= want:
            break
    if len(out) < want:  # few files: take more pieces of each
        for path in order:
            text = _text(path)
            header = text.splitlines(keepends=True)[0] if keepends(text, keep_header) else ""
            extra = list(pieces(text[len(header) :], header))[per_file:]
            out.extend(extra[: want - len(out)])
            if len(out) >= want:
                break
    return out[:want]


def keepends(text: str, keep_header: bool) -> bool:
    return keep_header and bool(text)


def json_values(want: int, rng: random.Random, part: str = BENCH) -> list[str]:
    """JSON texts: each file's top value, or its elements when it is too long."""
    out: list[str] = []
    paths = files(("*.json",), part=part)
    rng.shuffle(paths)
    for path in paths:
        try:
            value = json.loads(_text(path) or "null")
        except ValueError:
            continue
        out.extend(_json_parts(value)[:40])
        if len(out) >= want * 2:
            break
    rng.shuffle(out)
    return out[:want]


def _json_parts(value: object, depth: int = 0) -> list[str]:
    for indent in (2, None):
        text = json.dumps(value, indent=indent, ensure_ascii=False)
        if MIN_CHARS <= len(text) <= MAX_CHARS:
            return [text]
    if depth > 4 or len(json.dumps(value)) < MIN_CHARS:
        return []
    children = list(value.values()) if isinstance(value, dict) else value
    if not isinstance(children, list):
        return []
    return [part for child in children for part in _json_parts(child, depth + 1)]


def changelog_entries(want: int, rng: random.Random, part: str = BENCH) -> list[str]:
    """Debian changelog entries that name a security fix (CVE, injection, overflow)."""
    paths = [
        p
        for p in sorted(Path("/usr/share/doc").glob("*/changelog.Debian.gz"))
        if part_of(p) == part
    ]
    rng.shuffle(paths)
    out: list[str] = []
    for path in paths:
        for entry in _text(path).split("\n\n -- ")[:200]:
            lowered = entry.lower()
            if ("cve-" in lowered or "security" in lowered) and len(entry) >= MIN_CHARS:
                out.append(entry[:MAX_CHARS])
        if len(out) >= want * 2:
            break
    rng.shuffle(out)
    return out[:want]


def logs(want: int, rng: random.Random, part: str = BENCH) -> list[str]:
    paths = [
        p for p in sorted(Path("/var/log").rglob("*.log")) if part_of(p) == part and _readable(p)
    ]
    out: list[str] = []
    for path in paths:
        out.extend(pieces(_text(path)))
    rng.shuffle(out)
    return out[:want]


def package_records(part: str = BENCH) -> list[dict[str, str]]:
    """Installed Debian packages (name, version, section, description): data for tables;
    the half of them whose name hashes to ``part``."""
    records = []
    for block in _text(Path("/var/lib/dpkg/status")).split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if ": " in line and line[0] != " "
        )
        if "Package" in fields and part_of(Path(fields["Package"])) == part:
            records.append(
                {
                    "package": fields["Package"],
                    "version": fields.get("Version", ""),
                    "section": fields.get("Section", ""),
                    "size_kb": fields.get("Installed-Size", ""),
                    "summary": fields.get("Description", ""),
                }
            )
    return records
