"""File paths: Unix and Windows paths, and file names with a known extension."""

from __future__ import annotations

import re

from proctor.scanners.candidates.values import PATH, CandidateValue, Found, read_back

FILE_EXTENSIONS = frozenset(
    str.split(
        "pdf txt doc docx xls xlsx ppt pptx csv tsv md rst json yaml yml xml html htm png jpg "
        "jpeg gif svg webp bmp tif tiff zip tar gz tgz 7z rar py js ts sh bat ps1 log ini cfg "
        "conf toml mp3 mp4 mov wav avi mkv odt ods odp rtf eml msg pem key db sqlite bak exe "
        "dll bin iso dmg apk ics vcf epub tex sql ipynb parquet pages numbers"
    )
)
_EXTENSIONS = "|".join(sorted(FILE_EXTENSIONS, key=len, reverse=True))
_UNIX_PATH = re.compile(r"(?<![\w/.:~\\<-])(?:~|\.{1,2})?/+(?:[\w.-]+/+)*[\w.-]+/?")
_WINDOWS_PATH = re.compile(r"(?<![\w])[A-Za-z]:[\\/](?:[\w .-]+[\\/])*[\w.-]+")
# Anchored on the dot, so the scan skips to dots in C; the name is read backwards.
_EXTENSION_AT = re.compile(rf"\.(?i:{_EXTENSIONS})(?![\w-]|\.\w)")
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
_RELATIVE_PATH_CHARS = _NAME_CHARS | {"/"}


def unix_paths(text: str, found: Found, start: int, end: int) -> None:
    for match in _UNIX_PATH.finditer(text, start, end):
        value = normalise_unix_path(match.group())
        if value is not None and found.free(match.start(), match.end()):
            found.take(match.start(), match.end(), CandidateValue(PATH, value))


def windows_paths(text: str, found: Found, start: int, end: int) -> None:
    for match in _WINDOWS_PATH.finditer(text, start, end):
        raw = match.group()
        value = raw[0].upper() + raw[1:].replace("\\", "/")
        if found.free(match.start(), match.end()):
            found.take(match.start(), match.end(), CandidateValue(PATH, value))


def file_names(text: str, found: Found, start: int, end: int) -> None:
    """Names with a file extension: `report.pdf`, `docs/team-building.docx`."""
    floor = start  # a name never reaches back past the previous one: linear work
    for match in _EXTENSION_AT.finditer(text, start, end):
        first = read_back(text, match.start(), floor, _RELATIVE_PATH_CHARS)
        floor = match.end()
        if first is None or first == match.start() or text[first] in "./":
            continue
        name = text[first : match.end()]
        value = normalise_unix_path(name) if "/" in name else name
        if value is not None and found.free(first, match.end()):
            found.take(first, match.end(), CandidateValue(PATH, value))


def normalise_unix_path(raw: str) -> str | None:
    """``raw`` without ``./``, repeated or trailing slashes; None for `/word` alone."""
    path = re.sub(r"/{2,}", "/", raw.rstrip(".-"))
    while path.startswith("./"):
        path = path[2:]
    if len(path) > 1:
        path = path.rstrip("/")
    last = path.rsplit("/", 1)[-1]
    relative = raw.startswith(("~", "."))
    has_extension = "." in last.strip(".")
    if not relative and not has_extension and path.count("/") < 2:
        return None  # `/s`, `/etc`: too short to tell from prose
    return path
