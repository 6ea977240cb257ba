"""Prompt injection, stage 2: a small linear model over word unigrams and bigrams.

A logistic regression trained by ``scripts/train_injection_classifier.py`` on
public data (see ``docs/scanning.md``). The text is normalised as for stage 1
(hidden characters removed, look-alikes folded, lowercased), split into word,
number and punctuation tokens (numbers, e-mail addresses and URLs become one
placeholder each), the words of a class (``CLASSES``: addressees such as
"assistant", answer words, "previous", "instructions", override verbs, languages)
become the class's token, and every window of ``window`` tokens is scored: the sum of
the weights of its unigrams and bigrams plus a bias, through a sigmoid. The
best window decides. When its probability reaches the threshold calibrated at
training time, one ``injection.classifier`` finding spans that window, trimmed
to its run of tokens with the highest total weight. Inputs and outputs use the same model.
The model reads a text's prose (``structure.prose_view``: table cells, JSON
values, code comments), never its structure; of a structured text, only the
pieces of four words or more: a cell or value of a few words is data, an
instruction is a sentence.

Inference is pure Python (dict look-ups, ``itertools``, ``operator``): well
under a millisecond on 2 KB of text, mostly tokenizing. The model is a file in the
package, read once (when the first scanner is built) and checked against the
checksum in its header.

File format (version 1), all integers little-endian::

    b"PIJC" | u32 header length | header (JSON, sorted keys) | body (zlib)

The header holds the format version, the feature spec (tokenizer version,
window), bias, weight scale, threshold, feature count, the sha256 of the
body and of the training-data manifest. The body, once decompressed, is the
``int8`` weights (one per feature), then the features, one per line (a bigram
is its two tokens joined by a space).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import struct
import threading
import unicodedata
import zlib
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from itertools import accumulate, chain, islice, repeat
from operator import add, sub
from pathlib import Path
from typing import Any

from proctor.scanners.bounds import Bounds, segments
from proctor.scanners.errors import INVALID_MODEL, ScanError
from proctor.scanners.findings import Direction, Finding
from proctor.scanners.normalise import BIDI, HOMOGLYPHS, TAGS, ZERO_WIDTH, normalise
from proctor.scanners.structure import prose_view

NAME = "injection_model"
FINDING_TYPE = "injection.classifier"
MAGIC = b"PIJC"
FORMAT_VERSION = 1
TOKENIZER_VERSION = 2
MODEL_RESOURCE = ("data", "injection_model.bin")

# Words, numbers, single punctuation marks; URLs and e-mail addresses whole. Prose
# punctuation (. , ; ' ") is skipped: it says how much prose there is, not what it says.
# Underscores split words (``send_money`` -> ``send``, ``money``); a run of ``-``, ``=``,
# ``*``, ``#``, ``.`` or ``~`` (rules, headings, ellipses) is one token.
_URL = r"https?://\S+|www\.\S+|"
# bounded lengths and a start at a word's start: linear time on runs such as "a.a.a...@"
_EMAIL = r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}|"
_WORDS = r"[^\W\d_]+|\d+|-{2,}|={2,}|\*{2,}|#{2,}|\.{2,}|~{2,}|[^\s\w.,;'\"]"
TOKEN = re.compile(_URL + _EMAIL + _WORDS)
# A text with no "@" (or no "http"/"www.") cannot match that branch: skipping it gives
# the same tokens, faster.
_TOKENIZERS = {
    (url, email): re.compile((_URL if url else "") + (_EMAIL if email else "") + _WORDS)
    for url in (False, True)
    for email in (False, True)
}
NUMBER, EMAIL, URL = "0", "@email", "@url"
_PROSE_PUNCTUATION = frozenset(".,;'\"")  # skipped by the tokenizer (see TOKEN)


def _tokenizer(normalised: str) -> re.Pattern[str]:
    url = "http" in normalised or "www." in normalised
    return _TOKENIZERS[url, "@" in normalised]


def tokens(normalised: str) -> list[str]:
    """Tokens of normalised text, with numbers, e-mail addresses and URLs as placeholders.

    No token holds whitespace and none depends on what lies beyond the whitespace around
    it, so each whitespace-separated chunk is tokenized alone: most chunks are a word, a
    number, or a word and one punctuation mark, and skip the regular expression.
    """
    findall = _tokenizer(normalised).findall
    out: list[str] = []
    append, extend = out.append, out.extend
    for chunk in normalised.split():
        if chunk.isalpha():
            append(chunk)
        elif chunk.isdecimal():
            append(NUMBER)
        elif len(chunk) == 1:  # a mark on its own ("-" of a list, "|" of a table)
            if chunk not in _PROSE_PUNCTUATION and chunk != "_":  # what TOKEN skips
                append(_token(chunk))
        elif chunk[:-1].isalpha() and not (chunk[-1].isalnum() or chunk[-1] == "_"):
            append(chunk[:-1])
            if chunk[-1] not in _PROSE_PUNCTUATION:
                append(chunk[-1])
        else:
            extend(map(_token, findall(chunk)))
    return out


def _token(found: str) -> str:
    """A token as the model sees it: a word or single mark as it is, else its placeholder."""
    if found.isalpha() or (len(found) == 1 and not found.isdigit()):
        return found
    return NUMBER if found[0].isdigit() else _placeholder(found)


def _placeholder(token: str) -> str:
    if token[0].isdigit():
        return NUMBER
    if len(token) > 1 and "@" in token:
        return EMAIL
    if len(token) > 1 and (token.startswith(("http", "www."))):
        return URL
    return token[:2]  # a run of punctuation, whatever its length


# Words that play one part in an instruction to a model, read as one class token each: a
# model trained on "ignore the previous instructions" and "reply in French" then knows
# "disregard the earlier guidelines" and "respond in German", phrasings of another corpus.
# Whether a sentence addresses the model is in how classes combine ("your @answer",
# "@drop @prior @rules"); alone, the training script gives a class no weight.
CLASSES = {
    "@ai": (
        "ai", "assistant", "chatbot", "llm", "gpt", "chatgpt", "claude", "gemini", "llama",
        "copilot", "bot",
    ),
    "@answer": (
        "answer", "answers", "answering", "response", "responses", "reply", "replies",
        "replying", "respond", "responding", "summary", "summarise", "summarize",
        "summarising", "summarizing",
    ),
    "@prior": ("previous", "prior", "earlier", "above", "preceding", "initial", "foregoing"),
    "@rules": (
        "instructions", "instruction", "guidelines", "rules", "directions", "directives",
        "prompt", "prompts", "commands",
    ),
    "@drop": ("ignore", "disregard", "forget", "override", "bypass", "neglect", "overlook"),
    "@say": ("say", "print", "output", "repeat", "state", "type", "write", "mention"),
    "@lang": (
        "french", "german", "spanish", "italian", "portuguese", "chinese", "japanese",
        "russian", "dutch", "korean", "arabic", "hindi", "pirate", "polish", "turkish",
    ),
}  # fmt: skip
_FOLD = {word: name for name, words in CLASSES.items() for word in words}
_fold = _FOLD.get


def folded(toks: Sequence[str]) -> list[str]:
    """``toks`` with every word of a class (``CLASSES``) replaced by its class token."""
    return list(map(_fold, toks, toks))


def features(toks: Sequence[str]) -> list[str]:
    """Unigrams and bigrams (``"a b"``) of a token list, words folded into their classes:
    what the training script counts."""
    toks = folded(toks)
    return [*toks, *map(" ".join, zip(toks, islice(toks, 1, None), strict=False))]


# Stage 1's normalisation (``normalise.py``) done on the whole string at C speed:
# offsets are not kept, so a finding's span comes from ``normalise`` (only on a hit).
_HIDDEN = {ord(ch): None for ch in ZERO_WIDTH | BIDI} | {
    code: (chr(code - 0xE0000) if 0xE0020 <= code <= 0xE007E else None) for code in TAGS
}


# ``str.translate`` with a table costs a lookup per character; a text holding none of
# the table's characters is left as it is (found by a character-class search, in C).
_HIDDEN_CHAR = re.compile("[" + "".join(sorted(ZERO_WIDTH | BIDI)) + "\U000e0000-\U000e007f]")
_HOMOGLYPH_CHAR = re.compile("[" + "".join(sorted(map(chr, HOMOGLYPHS))) + "]")


def normalised_text(text: str) -> str:
    """Text as the model sees it; ASCII text keeps its offsets (only lowercased)."""
    if text.isascii():
        return text.lower()
    if _HIDDEN_CHAR.search(text):
        text = text.translate(_HIDDEN)
    text = unicodedata.normalize("NFKC", text)
    if _HOMOGLYPH_CHAR.search(text):
        text = text.translate(HOMOGLYPHS)
    return text.lower()


@dataclass(frozen=True, slots=True)
class Model:
    """A loaded model: integer weights by feature, and how to turn a sum into a probability."""

    unigrams: dict[str, int]
    bigrams: dict[tuple[str, str], int]
    bias: float
    scale: float
    threshold: float
    window: int
    header: dict[str, Any]

    def probability(self, total: int) -> float:
        logit = self.bias + self.scale * total
        if logit < -60:
            return 0.0
        return 1.0 / (1.0 + math.exp(-logit))

    def contributions(self, toks: list[str]) -> list[int]:
        """Each token's weight plus that of the bigram it ends (words folded into classes)."""
        toks = folded(toks)
        get_uni, get_bi = self.unigrams.get, self.bigrams.get
        n = len(toks)
        uni = map(get_uni, toks, repeat(0, n))
        bi = chain((0,), map(get_bi, zip(toks, islice(toks, 1, None), strict=False), repeat(0, n)))
        return list(map(add, uni, bi))

    def best_window(self, toks: list[str]) -> tuple[int, int, list[int]]:
        """``(sum, first token, contributions)`` of the highest-scoring window."""
        contrib = self.contributions(toks)
        prefix = list(accumulate(contrib, initial=0))
        if len(contrib) <= self.window:
            return prefix[-1], 0, contrib
        sums = list(map(sub, islice(prefix, self.window, None), prefix))
        best = max(sums)
        return best, sums.index(best), contrib

    def score(self, text: str) -> float:
        """The model's probability for ``text`` (best window), for tests and training."""
        total, _, _ = self.best_window(tokens(normalised_text(text)))
        return self.probability(total)


class InjectionClassifier:
    """Stage 2 of prompt-injection detection: a linear model over word n-grams."""

    name = NAME
    cost = 40  # after stage 1 (injection, 30)
    types = frozenset({"injection"})

    def __init__(self, model_path: Path | None = None, bounds: Bounds | None = None) -> None:
        self._path = model_path
        self._bounds = bounds or Bounds()
        # Read the model when the cascade is built, not inside the first scan's budget;
        # a broken model fails every scan (coded error), so the cascade's fail mode decides.
        try:
            self._model: Model | ScanError = load_model(model_path)
        except ScanError as exc:
            self._model = exc

    @property
    def model(self) -> Model:
        if isinstance(self._model, ScanError):  # a fresh error each time: no traceback pile-up
            raise ScanError(self._model.message, code=self._model.code, hint=self._model.hint)
        return self._model

    def scan(self, text: str, direction: Direction) -> Sequence[Finding]:
        model = self.model
        parts, _ = segments(text, self._bounds)  # the cascade reports the truncation
        found: list[Finding] = []
        for part in parts:
            view = prose_view(part.text).sentences()
            hit = _scan_part(model, view.text)
            if hit is not None:
                start, end = view.origin(hit.start, hit.end)
                found.append(
                    Finding(
                        hit.type,
                        start + part.offset,
                        end + part.offset,
                        hit.score,
                        NAME,
                        hit.detail,
                    )
                )
        return found


def _scan_part(model: Model, text: str) -> Finding | None:
    toks = tokens(normalised_text(text))
    total, first, contrib = model.best_window(toks)
    probability = model.probability(total)
    if probability < model.threshold:
        return None
    last = min(len(toks), first + model.window) - 1
    first, last = _strongest_run(contrib, first, last)
    start, end = _char_span(text, first, last)
    return Finding(
        FINDING_TYPE,
        start,
        end,
        probability,
        NAME,
        f"model probability {probability:.2f} >= threshold {model.threshold:.2f}",
    )


def _strongest_run(contrib: list[int], first: int, last: int) -> tuple[int, int]:
    """The run of tokens in ``first..last`` whose weights sum highest (the earliest, on a
    tie): the window trimmed to what raised its score, without benign words at its edges
    that happen to weigh a little."""
    best, best_first, best_last = contrib[first], first, first
    total, start = 0, first
    for at in range(first, last + 1):
        if total <= 0:
            total, start = 0, at
        total += contrib[at]
        if total > best:
            best, best_first, best_last = total, start, at
    return best_first, best_last


def _char_span(text: str, first: int, last: int) -> tuple[int, int]:
    """Offsets in ``text`` of tokens ``first`` to ``last`` (inclusive)."""
    norm = None if text.isascii() else normalise(text)
    normalised = norm.text if norm else text.lower()
    found = _tokenizer(normalised).finditer(normalised)
    # skip to token ``first``, then to token ``last``, without keeping the ones between
    head = next(islice(found, first, None), None) if first <= last else None
    tail = (
        head if head is None or last == first else next(islice(found, last - first - 1, None), None)
    )
    if head is None or tail is None:  # fewer tokens than expected: the slow, general way
        spans = [m.span() for m in islice(_tokenizer(normalised).finditer(normalised), last + 1)]
        if not spans:
            return 0, len(text)
        start, end = spans[min(first, len(spans) - 1)][0], spans[-1][1]
    else:
        start, end = head.start(), tail.end()
    return norm.span(start, end, len(text)) if norm else (start, end)


_cache: dict[Path | None, Model] = {}
_cache_lock = threading.Lock()


def load_model(path: Path | None = None) -> Model:
    """The model at ``path`` (default: the one in the package), read and checked once."""
    with _cache_lock:
        model = _cache.get(path)
        if model is None:
            model = _cache[path] = decode_model(_read(path), str(path or "package model"))
        return model


def _read(path: Path | None) -> bytes:
    try:
        if path is None:
            return resources.files("proctor.scanners").joinpath(*MODEL_RESOURCE).read_bytes()
        return path.read_bytes()
    except OSError as exc:
        raise ScanError(
            f"cannot read the injection model `{path or '/'.join(MODEL_RESOURCE)}`: {exc.strerror}",
            code=INVALID_MODEL,
            hint="reinstall proctor or retrain with scripts/train_injection_classifier.py",
        ) from exc


def _invalid(source: str, why: str) -> ScanError:
    return ScanError(
        f"injection model `{source}` is not usable: {why}",
        code=INVALID_MODEL,
        hint="reinstall proctor or retrain with scripts/train_injection_classifier.py",
    )


def decode_model(data: bytes, source: str = "model") -> Model:
    """A ``Model`` from the bytes of a model file; a coded ``ScanError`` if they are wrong."""
    if len(data) < 8 or data[:4] != MAGIC:
        raise _invalid(source, "not a proctor model file (bad magic)")
    (header_length,) = struct.unpack_from("<I", data, 4)
    try:
        header = json.loads(data[8 : 8 + header_length])
        body_sha, count = header["body_sha256"], int(header["n_features"])
        window, version = int(header["features"]["window"]), header["format"]
        tokenizer = header["features"]["tokenizer"]
        bias, scale = float(header["bias"]), float(header["scale"])
        threshold = float(header["threshold"])
    except (ValueError, KeyError, TypeError) as exc:
        raise _invalid(source, "unreadable header") from exc
    if version != FORMAT_VERSION or tokenizer != TOKENIZER_VERSION:
        raise _invalid(
            source,
            f"format {version}, tokenizer {tokenizer}; "
            f"expected {FORMAT_VERSION}, {TOKENIZER_VERSION}",
        )
    compressed = data[8 + header_length :]
    if hashlib.sha256(compressed).hexdigest() != body_sha:
        raise _invalid(source, "checksum mismatch (corrupted or truncated)")
    try:
        body = zlib.decompress(compressed)
    except zlib.error as exc:
        raise _invalid(source, "body does not decompress") from exc
    weights = array("b", body[:count])
    names = body[count:].decode("utf-8").split("\n") if count else []
    if len(weights) != count or len(names) != count or window < 1 or not 0 < threshold < 1:
        raise _invalid(source, "inconsistent feature table")
    unigrams: dict[str, int] = {}
    bigrams: dict[tuple[str, str], int] = {}
    for name, weight in zip(names, weights, strict=True):
        first, _, second = name.partition(" ")
        if second:
            bigrams[first, second] = weight
        else:
            unigrams[first] = weight
    return Model(unigrams, bigrams, bias, scale, threshold, window, header)


def encode_model(
    weights: dict[str, int],
    *,
    bias: float,
    scale: float,
    threshold: float,
    window: int,
    extra: dict[str, Any] | None = None,
) -> bytes:
    """The bytes of a model file; the same arguments always give the same bytes."""
    names = sorted(weights)
    table = array("b", [weights[n] for n in names]).tobytes()
    body = zlib.compress(table + "\n".join(names).encode("utf-8"), 9)
    header = {
        **(extra or {}),
        "format": FORMAT_VERSION,
        "features": {"tokenizer": TOKENIZER_VERSION, "ngrams": [1, 2], "window": window},
        "bias": bias,
        "scale": scale,
        "threshold": threshold,
        "n_features": len(names),
        "body_sha256": hashlib.sha256(body).hexdigest(),
    }
    raw = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return MAGIC + struct.pack("<I", len(raw)) + raw + body
