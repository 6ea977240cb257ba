"""Secrets: key formats of cloud and SaaS providers, private keys, JWTs, URL passwords,
and high-entropy values assigned to secret-like names.

Findings cover the secret itself (for a URL, only the password) so a redaction
masks exactly it; ``detail`` names the format, never the value.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import re2

from proctor.scanners.findings import Direction, Finding
from proctor.scanners.readings import readings

NAME = "secrets"


@dataclass(frozen=True, slots=True)
class KeyFormat:
    type: str
    pattern: re.Pattern[str]
    score: float
    detail: str
    # literals of which one must occur in the text before the pattern runs (every match
    # holds one: a substring search costs far less than the pattern's pass)
    hints: tuple[str, ...]


KEY_FORMATS: tuple[KeyFormat, ...] = (
    KeyFormat(
        "secret.aws_access_key",
        re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b"),
        0.9,
        "aws access key id",
        ("AKIA", "ASIA", "ABIA", "ACCA"),
    ),
    KeyFormat(
        "secret.gcp_api_key",
        re.compile(r"\bAIza[0-9A-Za-z_\-]{35}(?![\w-])"),
        0.9,
        "google cloud api key",
        ("AIza",),
    ),
    KeyFormat(
        "secret.gcp_oauth_token",
        re.compile(r"\bya29\.[0-9A-Za-z_\-]{20,}"),
        0.85,
        "google oauth access token",
        ("ya29.",),
    ),
    KeyFormat(
        "secret.gcp_service_account",
        re.compile(r'"private_key_id"\s*:\s*"[a-f0-9]{40}"'),
        0.9,
        "google service account key id",
        ("private_key_id",),
    ),
    KeyFormat(
        "secret.github_token",
        re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{82}\b"),
        0.95,
        "github token",
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    ),
    KeyFormat(
        "secret.slack_token",
        re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,72}\b"),
        0.9,
        "slack token",
        ("xox",),
    ),
    KeyFormat(
        "secret.slack_webhook",
        re.compile(
            r"https://hooks\.slack\.com/services/T[A-Z0-9]{6,}/B[A-Z0-9]{6,}/[A-Za-z0-9]{20,}"
        ),
        0.9,
        "slack incoming webhook url",
        ("hooks.slack.com",),
    ),
    KeyFormat(
        "secret.stripe_key",
        re.compile(r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,99}\b"),
        0.95,
        "stripe secret or restricted key",
        ("k_live_", "k_test_"),
    ),
    KeyFormat(
        "secret.anthropic_key",
        re.compile(r"\bsk-ant-[a-z0-9]{2,10}-[A-Za-z0-9_\-]{32,}"),
        0.95,
        "anthropic api key",
        ("sk-ant-",),
    ),
    KeyFormat(
        "secret.openai_key",
        re.compile(
            r"\bsk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}T3BlbkFJ[A-Za-z0-9_\-]{20,}"
            r"|\bsk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{40,}"
        ),
        0.85,
        "openai-style api key",
        ("sk-",),
    ),
)

PEM = re.compile(r"-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----")
JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
URL_PASSWORD = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]{1,20}://[^\s:/@]{1,128}:([^\s:/@]{1,256})@")
# The name can hold many letters around the keyword; RE2 keeps this linear.
NAMED_VALUE = re2.compile(
    r"(?i)([a-z0-9_.-]{0,40}(?:secret|passw(?:or)?d|pwd|token|api[_-]?key|apikey|access[_-]?key"
    r"|private[_-]?key|auth|credential)[a-z0-9_.-]{0,40})[\"']?\s{0,4}(?::|=|=>)\s{0,4}[\"']?"
    r"([A-Za-z0-9+/=_\-.!@#$%^&*~]{8,200})"
)
PLACEHOLDERS = (
    "xxxx",
    "****",
    "changeme",
    "password",
    "example",
    "placeholder",
    "your_",
    "redacted",
)
NAME_HINTS = ("secret", "passw", "pwd", "token", "key", "auth", "credential")


class SecretScanner:
    """Provider key formats, PEM private keys, JWTs, URL passwords, named high-entropy values."""

    name = NAME
    cost = 20
    types = frozenset({"secret"})

    def scan(self, text: str, direction: Direction) -> Sequence[Finding]:
        found = _found_in(text)
        for reading in readings(text):  # hidden characters, look-alikes, escapes, base64
            found.extend(reading.finding(finding) for finding in _found_in(reading.text))
        return _without_overlaps(found) if found else found


def _found_in(text: str) -> list[Finding]:
    """Every rule's findings in ``text``, overlaps kept."""
    found: list[Finding] = []
    for spec in KEY_FORMATS:
        if not any(hint in text for hint in spec.hints):
            continue
        found.extend(
            Finding(spec.type, m.start(), m.end(), spec.score, NAME, spec.detail)
            for m in spec.pattern.finditer(text)
        )
    if "-----BEGIN" in text:
        found.extend(_private_keys(text))
    if "eyJ" in text:
        found.extend(_jwts(text))
    if "://" in text:
        found.extend(_url_passwords(text))
    lowered = text.lower()
    if any(hint in lowered for hint in NAME_HINTS):
        found.extend(_named_values(text))
    return found


def _private_keys(text: str) -> list[Finding]:
    out = []
    for match in PEM.finditer(text):
        label = match.group(1)
        end_marker = f"-----END {label}-----"
        end = text.find(end_marker, match.end())
        stop = end + len(end_marker) if end >= 0 else match.end()
        out.append(
            Finding(
                "secret.private_key",
                match.start(),
                stop,
                0.99,
                NAME,
                f"pem {label.lower()}" + ("" if end >= 0 else " (no end marker)"),
            )
        )
    return out


def _jwts(text: str) -> list[Finding]:
    out = []
    for match in JWT.finditer(text):
        header = match.group().split(".", 1)[0]
        try:
            decoded = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
        except (ValueError, binascii.Error):
            continue
        if not isinstance(decoded, dict) or "alg" not in decoded:
            continue
        out.append(
            Finding(
                "secret.jwt",
                match.start(),
                match.end(),
                0.85,
                NAME,
                f"json web token, alg {str(decoded['alg'])[:16]}",
            )
        )
    return out


def _url_passwords(text: str) -> list[Finding]:
    out = []
    for match in URL_PASSWORD.finditer(text):
        password = match.group(1)
        placeholder = password.startswith(("$", "<", "{", "%")) or _is_placeholder(password)
        out.append(
            Finding(
                "secret.url_password",
                match.start(1),
                match.end(1),
                0.3 if placeholder else 0.9,
                NAME,
                "password in url" + (" (looks like a placeholder)" if placeholder else ""),
            )
        )
    return out


def shannon_entropy(value: str) -> float:
    """Bits per character of ``value`` (Shannon, over its own character frequencies)."""
    counts = Counter(value)
    total = len(value)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def _named_values(text: str) -> list[Finding]:
    out = []
    for match in NAMED_VALUE.finditer(text):
        value = match.group(2)
        if _is_placeholder(value):
            continue
        entropy = shannon_entropy(value)
        threshold = 3.0 if len(value) < 16 else 3.5
        if entropy < threshold:
            continue
        score = min(0.95, 0.5 + (entropy - threshold) * 0.25)
        start, end = match.span(2)
        out.append(
            Finding(
                "secret.high_entropy",
                start,
                end,
                score,
                NAME,
                f"high-entropy value ({entropy:.1f} bits/char) assigned to a secret-like name",
            )
        )
    return out


def _is_placeholder(value: str) -> bool:
    lowered = value.lower()
    return len(set(value)) <= 2 or any(p in lowered for p in PLACEHOLDERS)


def _without_overlaps(found: list[Finding]) -> list[Finding]:
    """Specific formats win over the generic high-entropy rule where spans overlap."""
    ranked = sorted(found, key=lambda f: (f.type == "secret.high_entropy", -f.score, f.start))
    kept: list[Finding] = []
    for finding in ranked:
        if all(finding.end <= k.start or finding.start >= k.end for k in kept):
            kept.append(finding)
    return sorted(kept, key=lambda f: f.start)
