"""Prompt injection, stage 1: patterns and structure checks on normalised text.

Looks for instructions aimed at the model rather than at a human reader:
overrides of earlier instructions, role and system impersonation, tool-use
directives addressed to the agent, and text hidden from a human (zero-width and
bidi characters, Unicode tag characters, look-alike letters, HTML comments,
base64 or hex that decodes to such instructions). Patterns need the
combination that makes a sentence an attack ("ignore all previous
instructions"), not a single trigger word, to keep ordinary text quiet.
All patterns run on RE2: linear time whatever the input. They read the whole
text (chat markup and role tags are markup themselves) and, for a structured
text, its prose alone too (``structure.prose_view``: the cells of a table, the
values of JSON with escapes decoded, the comments of code), spans mapped back.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import re2

from proctor.scanners.findings import Direction, Finding
from proctor.scanners.normalise import Normalised, normalise
from proctor.scanners.reader import reader_requests
from proctor.scanners.readings import Reading, decode, encoded_runs
from proctor.scanners.structure import ProseView, prose_view

NAME = "injection"


@dataclass(frozen=True, slots=True)
class Rule:
    type: str
    id: str
    pattern: Any  # a compiled RE2 pattern (re2 has no type hints)
    score: float
    # A weak rule (score < 0.5) matches what people also write ("please disregard the
    # earlier instructions about the shuttle"); it is raised to ``combined`` when another
    # rule in the same text reaches 0.5: two signals together make the attack.
    combined: float = 0.0
    # Literals every match holds: one of each group. Most texts lack one, and a substring
    # search is far cheaper than a pass of the pattern (tests check every match has them).
    needs: tuple[tuple[str, ...], ...] = ()
    # The same pattern over UTF-8 bytes, for ASCII text: RE2's wrapper then neither
    # encodes the text nor converts offsets at every call (offsets are the same).
    ascii_pattern: Any = None
    # A match quoted as inline code (`<system>`) is a mention of the markup, not markup.
    quoted_is_mention: bool = False

    def finditer(self, text: str, ascii_bytes: bytes | None) -> Iterator[tuple[int, int]]:
        """Spans of the pattern's matches; ``ascii_bytes`` is ``text`` encoded, if ASCII."""
        if ascii_bytes is not None:
            return (m.span() for m in self.ascii_pattern.finditer(ascii_bytes))
        return (m.span() for m in self.pattern.finditer(text))

    def may_match(self, text: str) -> bool:
        for group in self.needs:  # noqa: SIM110  (a loop: no generator per rule and text)
            if not any(map(text.__contains__, group)):
                return False
        return True


def _rule(
    kind: str,
    rule_id: str,
    pattern: str,
    score: float,
    combined: float = 0.0,
    *,
    needs: tuple[tuple[str, ...], ...],
    quoted_is_mention: bool = False,
) -> Rule:
    return Rule(
        f"injection.{kind}",
        rule_id,
        re2.compile(pattern),
        score,
        combined,
        needs,
        re2.compile(pattern.encode("utf-8")),
        quoted_is_mention,
    )


_ANY = r"(?:all|any|every|the|your|my|of|these|those|prior|previous|above|earlier|preceding)"
_BEFORE = r"(?:previous|prior|above|earlier|preceding|original|initial|system|developer|existing)"
_WHAT = (
    r"(?:instructions?|prompts?|rules|directions|directives|guidelines|guardrails|constraints"
    r"|programming|system prompt)"
)
_AGENT = r"(?:ai|a\.i\.|assistant|agent|model|llm|chatbot|language model|copilot|gpt|claude)"
# The literals behind those groups, for the rules' ``needs``
_VERBS = ("ignore", "disregard", "forget", "override", "bypass", "skip", "drop", "abandon")
_WHATS = (
    "instruction",
    "prompt",
    "rules",
    "direction",
    "directive",
    "guideline",
    "guardrail",
    "constraint",
    "programming",
)

# An override aimed at the reader's own instructions ends there ("ignore all previous
# instructions.", "... and send", "... instead", "... given to you"); one that goes on
# with a topic ("... about the shuttle", "... for the printer") is a person's correction.
# A backslash ends it too: YAML folds long quoted strings with "\" line continuations.
_OVERRIDE_END = (
    r"(?:\s*(?:$|[.!;:,)\]\n\"'*\\]|-{2,})"
    r"|\s+(?:and|then|now|immediately|completely|entirely|instead|altogether|you|your)\b"
    r"|\s+(?:above|below|here|in this (?:conversation|chat|session|prompt))\b"
    r"|\s+(?:(?:that|which) you|you (?:were|have been) given|given to you)\b"
    r"|\s+(?:from|of|by) (?:the |your )?(?:user|developer|system|operator|creator|owner)s?\b)"
)
_VERB = r"(?:ignore|disregard|forget|override|bypass|skip|drop|abandon)"
# "all/any/every (of) (the|your)" or "your": the reader's instructions, not the writer's
_YOURS = r"(?:(?:all|any|every|each)\s+(?:of\s+)?(?:the\s+|your\s+|these\s+|those\s+)?|your\s+)?"
# "from now on, you ..." changing how the reader behaves or who it is
_BEHAVE = (
    r"(?:(?:will|must|shall|should)\s+(?:now\s+)?(?:only\s+|always\s+|never\s+|not\s+)?"
    r"(?:act|behave|pretend|roleplay|role-play|obey|comply|ignore|disregard|forget|refuse"
    r"|play the role|follow (?:only\s+)?(?:my|these|the following|this|new|instructions|orders"
    r"|commands)"
    r"|(?:respond|answer|reply|speak|talk|write)\s+(?:only\b|in\s+\w+|with\b|as\b|like\b"
    r"|to (?:every|all|each|any)\b|(?:every|all|each|any)\b)"
    r"|be (?:an?|the|my)\s+(?:\w+\s+){0,2}(?:ai|assistant|bot|model|agent)\b)"
    rf"|are (?:now\s+)?(?:no longer|not (?:an?|the) {_AGENT}|(?:an?|the|my)\s+(?:\w+\s+){{0,2}}"
    r"(?:ai|assistant|bot|chatbot|model|persona|character)\b|dan\b|in \w+ mode)"
    r"|(?:only|always|never) (?:respond|answer|reply|obey|follow)\b)"
)

RULES: tuple[Rule, ...] = (
    _rule(
        "override",
        "ignore-previous",
        rf"\b{_VERB}\s+{_YOURS}{_BEFORE}\s+(?:\w+\s+)?{_WHAT}\b{_OVERRIDE_END}",
        0.9,
        needs=(_VERBS, _WHATS),
    ),
    _rule(
        "override",
        "ignore-previous-redirect",
        rf"\b{_VERB}\s+(?:{_ANY}\s+){{0,3}}{_BEFORE}\s+(?:\w+\s+)?{_WHAT}\s*[,;.]?\s*"
        r"(?:(?:and|then|instead)\s+(?:instead\s+)?(?:do|send|forward|email|transfer|delete|call|"
        r"run|execute|reply|respond|say|tell|output|print|post|share|visit|open|follow|obey)\b"
        r"|your (?:new|real|actual|only) (?:task|goal|objective|instructions?|role|job)\b)",
        0.85,
        needs=(_VERBS, _WHATS),
    ),
    _rule(
        "override",
        "ignore-previous-plain",
        rf"\b{_VERB}\s+(?:{_ANY}\s+){{0,3}}{_BEFORE}\s+(?:\w+\s+)?{_WHAT}\b",
        0.4,
        combined=0.85,
        needs=(_VERBS, _WHATS),
    ),
    _rule(
        "override",
        "ignore-all-instructions",
        rf"\b(?:ignore|disregard|forget)\s+(?:all|any|everything)\s+(?:of\s+)?"
        rf"(?:your\s+|the\s+)?{_WHAT}\b{_OVERRIDE_END}",
        0.85,
        needs=(("ignore", "disregard", "forget"), _WHATS),
    ),
    _rule(
        "override",
        "new-instructions",
        r"(?:^|\n)\s*(?:new|updated|real|actual|important)\s+(?:system\s+)?instructions?\s*:",
        0.7,
        needs=(("instruction",), (":",)),
    ),
    _rule(
        "override",
        "from-now-on",
        rf"\bfrom now on,?\s+(?:you\s+{_BEHAVE}"
        rf"|the (?:ai|a\.i\.|ai assistant|assistant|llm|chatbot|language model|gpt|claude|copilot)"
        r"\s+(?:must|will|shall|should)\b)",
        0.7,
        needs=(("from now on",),),
    ),
    _rule(
        "override",
        "from-now-on-plain",
        rf"\bfrom now on,?\s+(?:you|the {_AGENT})\s+(?:are|will|must|shall|should)\b",
        0.4,
        combined=0.7,
        needs=(("from now on",),),
    ),
    _rule(
        "role",
        "system-message-marker",
        r"#{1,6}\s*[(\[]\s*(?:system|developer|admin|assistant)(?:[_ -]?(?:message|prompt|"
        r"instructions?|override|note))?\s*[)\]]"
        r"|\[(?:system|developer|admin)[_ -](?:message|prompt|instructions?|override)\]"
        r"|\(system_(?:message|prompt)\)",
        0.8,
        needs=(("system", "developer", "admin", "assistant"), ("#", "[", "(")),
    ),
    _rule(
        "override",
        "jailbreak",
        r"\b(?:developer mode|dan mode|do anything now|jailbreak(?:en|ed)? mode"
        r"|no longer bound by)\b",
        0.8,
        needs=(
            ("developer mode", "dan mode", "do anything now", "jailbreak", "no longer bound by"),
        ),
    ),
    _rule(
        "role",
        "you-are-now",
        r"\byou are (?:now|no longer)\s+(?:a|an|in|the|my|acting as)\b",
        0.65,
        needs=(("you are now", "you are no longer"),),
    ),
    _rule(
        "role",
        "chat-markup",
        r"<\|(?:im_start|im_end|system|user|assistant|endoftext)\|>|\[/?inst\]|<<sys>>"
        r"|<start_of_turn>",
        0.9,
        needs=(("<|", "inst]", "<<sys>>", "<start_of_turn>"),),
    ),
    _rule(
        "role",
        "role-line",
        r"(?:^|\n)\s*(?:#{1,4}\s*)?(?:system|assistant|developer)\s*(?:prompt|message)?\s*:\s*"
        r"(?:you|ignore|disregard|forget|from now|new|always|never|do not|don't)\b",
        0.8,
        needs=(("system", "assistant", "developer"), (":",)),
    ),
    _rule(
        "role",
        "role-tag",
        r"</?(?:system|system_prompt|instructions?|admin|developer)>",
        0.7,
        needs=(("system", "instruction", "admin", "developer"), ("<",), (">",)),
        quoted_is_mention=True,
    ),
    _rule(
        "role",
        "system-prompt-leak",
        r"\b(?:reveal|print|repeat|show|output|leak|tell)\s+(?:me\s+)?(?:your|the)\s+"
        r"(?:system prompt|initial prompt|hidden (?:prompt|instructions))\b",
        0.75,
        needs=(("system prompt", "initial prompt", "hidden prompt", "hidden instructions"),),
    ),
    _rule(
        "tool_directive",
        "address-the-agent",
        rf"\b(?:attention|note to|message (?:to|for)|dear|hey|instructions? (?:to|for))\s+"
        rf"(?:the\s+|all\s+|any\s+)?{_AGENT}s?\b",
        0.6,
        needs=(
            (
                "attention",
                "note to",
                "message to",
                "message for",
                "dear",
                "hey",
                "instruction to",
                "instructions to",
                "instruction for",
                "instructions for",
            ),
        ),
    ),
    _rule(
        "tool_directive",
        "if-you-are-an-ai",
        rf"\bif you are an?\s+(?:\w+\s+)?{_AGENT}\b",
        0.75,
        needs=(("if you are a",),),
    ),
    _rule(
        "tool_directive",
        "call-a-tool",
        r"\b(?:you must|you should|you need to|please|now|immediately|first)\s+"
        r"(?:call|invoke|use|execute|run)\s+(?:the\s+)?(?:`?[a-z_]+`?\s+)?(?:tool|function)\b",
        0.65,
        needs=(("tool", "function"),),
    ),
    _rule(
        "tool_directive",
        "send-data-out",
        r"\b(?:send|forward|email|upload|post|exfiltrate|transfer)\s+(?:all|every|the|this|these|"
        r"my|your|his|her|their|our)\s+(?:\w+\s+){0,4}(?:to|at)\s+\S+@\S+\.\w+",
        0.7,
        needs=(("@",), ("to", "at")),
    ),
    _rule(
        "tool_directive",
        "move-money",
        r"\b(?:transfer|wire|send|pay|refund)\s+(?:\$|€|£)?\s?[\d,.]+\s*(?:\w+\s+){0,3}"
        r"to\s+(?:the\s+)?(?:account|iban|wallet)\b",
        0.6,
        needs=(("account", "iban", "wallet"),),
    ),
    _rule(
        "tool_directive",
        "without-telling",
        r"\b(?:do not|don't|never|without)\s+(?:tell|telling|inform|informing|mention|mentioning|"
        r"notify|notifying|alert|alerting)\s+(?:the\s+)?(?:user|human|customer|owner)\b",
        0.5,
        needs=(
            ("tell", "inform", "mention", "notify", "alert"),
            ("user", "human", "customer", "owner"),
        ),
    ),
    _rule(
        "tool_directive",
        "before-answering",
        r"\bbefore (?:you )?(?:answer|respond|repl)\w*[^.\n]{0,60}\b(?:call|send|forward|email|"
        r"transfer|delete|run|execute)\b",
        0.7,
        needs=(("before ",),),
    ),
)

HTML_COMMENT = re.compile(r"<!--(.{0,4000}?)-->", re.DOTALL)


class InjectionScanner:
    """Stage 1 of prompt-injection detection: normalised patterns and hidden text."""

    name = NAME
    cost = 30
    types = frozenset({"injection"})

    def scan(self, text: str, direction: Direction) -> Sequence[Finding]:
        norm = normalise(text)
        found = _patterns(norm, len(text))
        view = prose_view(text)
        if view.pieces is not None:  # structured: its prose read alone too, spans mapped back
            seen = {(f.type, f.start, f.end, f.detail) for f in found}
            for finding in _patterns(normalise(view.text), len(view.text)):
                mapped = _at_origin(finding, view)
                if (mapped.type, mapped.start, mapped.end, mapped.detail) not in seen:
                    found.append(mapped)
        decoded = decode(text, with_base64=False)  # base64 and hex: `_encoded`
        if decoded is not None:  # `&#x69;gnore ...`, `ignore%20all%20...`: read as decoded too
            found.extend(_decoded(decoded, found))
        found.extend(_hidden(norm, text, found))
        if "<!--" in text:
            found.extend(_comments(text))
        found.extend(_encoded(text))
        return found


def _at_origin(finding: Finding, view: ProseView) -> Finding:
    start, end = view.origin(finding.start, finding.end)
    return Finding(finding.type, start, end, finding.score, NAME, finding.detail)


def _decoded(reading: Reading, found: list[Finding]) -> list[Finding]:
    """Pattern findings in ``reading``, spanning the original text, where ``found`` has none
    of their type (a JSON string's escapes are decoded by its prose view already)."""
    out = []
    for finding in _patterns(normalise(reading.text), len(reading.text)):
        mapped = reading.finding(finding)
        if not any(
            f.type == mapped.type and f.start < mapped.end and mapped.start < f.end for f in found
        ):
            out.append(mapped)
    return out


def _patterns(norm: Normalised, length: int, detail: str = "") -> list[Finding]:
    out = []
    weak: list[tuple[Rule, int, int]] = []
    text = norm.text
    ascii_bytes = text.encode("ascii") if text.isascii() else None
    for rule in RULES:
        if not rule.may_match(text):
            continue
        for found_start, found_end in rule.finditer(text, ascii_bytes):
            if rule.quoted_is_mention and _quoted(text, found_start, found_end):
                continue
            start, end = norm.span(found_start, found_end, length)
            if rule.combined:
                weak.append((rule, start, end))
            else:
                out.append(
                    Finding(rule.type, start, end, rule.score, NAME, f"rule {rule.id}{detail}")
                )
    out.extend(reader_requests(norm, length, detail))
    strong = any(f.score >= 0.5 for f in out)
    for rule, start, end in weak:
        if any(f.start <= start and end <= f.end and f.type == rule.type for f in out):
            continue  # the strong form of the same rule already covers it
        score = rule.combined if strong else rule.score
        why = " with another signal" if strong else ""
        out.append(Finding(rule.type, start, end, score, NAME, f"rule {rule.id}{detail}{why}"))
    return out


def _quoted(text: str, start: int, end: int) -> bool:
    return start > 0 and text[start - 1] == "`" and text[end : end + 1] == "`"


def _hidden(norm: Normalised, text: str, found: list[Finding]) -> list[Finding]:
    out = []
    boost = 0.3 if found else 0.0  # hidden characters inside an attack make it likelier
    if norm.zero_width:
        out.append(_spread("zero-width characters", norm.zero_width, 0.4 + boost))
    if norm.bidi:
        out.append(_spread("bidirectional control characters", norm.bidi, 0.5 + boost))
    if norm.tags:
        out.append(_spread("unicode tag characters (hidden ascii)", norm.tags, 0.9))
    for start, end in norm.mixed_script_words:
        hit = any(f.start < end and start < f.end for f in found)
        out.append(
            Finding(
                "injection.homoglyph",
                start,
                end,
                0.8 if hit else 0.3,
                NAME,
                "word mixing latin and look-alike letters"
                + ("; part of an injection pattern" if hit else ""),
            )
        )
    return out


def _spread(what: str, positions: tuple[int, ...], score: float) -> Finding:
    return Finding(
        "injection.hidden_text",
        positions[0],
        positions[-1] + 1,
        min(score, 1.0),
        NAME,
        f"{len(positions)} {what}",
    )


def _comments(text: str) -> list[Finding]:
    out = []
    for match in HTML_COMMENT.finditer(text):
        inner = _patterns(normalise(match.group(1)), len(match.group(1)), " inside html comment")
        if inner:
            best = max(f.score for f in inner)
            out.append(
                Finding(
                    "injection.hidden_text",
                    match.start(),
                    match.end(),
                    min(1.0, best + 0.05),
                    NAME,
                    f"html comment holding an instruction ({_rule_ids(inner)})",
                )
            )
    return out


def _encoded(text: str) -> list[Finding]:
    out = []
    for run in encoded_runs(text):
        inner = _patterns(normalise(run.decoded), len(run.decoded))
        if inner:
            best = max(f.score for f in inner)
            out.append(
                Finding(
                    "injection.encoded",
                    run.start,
                    run.end,
                    min(1.0, best),
                    NAME,
                    f"{run.encoding} text decoding to an instruction ({_rule_ids(inner)})",
                )
            )
    return out


def _rule_ids(findings: list[Finding]) -> str:
    ids = dict.fromkeys(f.detail.split()[1] for f in findings if f.detail.startswith("rule "))
    return "rules " + ", ".join(ids)
