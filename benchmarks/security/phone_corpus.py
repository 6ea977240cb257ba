"""Phone numbers as each locale writes them, with extensions, and the look-alikes around them.

``Faker``'s ``phone_number()`` in twelve locales (seeded), kept when
``phonenumbers`` says the number is valid in the locale's region (the reference
validator): national forms without a country code, international forms,
extensions (``x1234``, ``ext. 12``), some written with irregular spacing.
Negatives are dates, times, versions, order numbers and amounts. Cards of
every issuer Faker knows (in the published ranges), written with spaces,
dashes or dots, are added to the same corpus. None of it comes from presidio-research's set.
"""

from __future__ import annotations

import random
import re

from benchmarks.security.pii_corpus import LabelledText, Span

DEFAULT_SEED = 16016
PER_LOCALE = 60
LOCALES = (
    "en_US", "en_CA", "en_GB", "de_DE", "fr_FR", "es_ES",
    "it_IT", "nl_NL", "en_AU", "en_IN", "pt_BR", "ja_JP",
)  # fmt: skip
CARD_TYPES = (
    "visa", "visa13", "visa19", "mastercard", "amex", "discover", "diners", "jcb15", "jcb16",
    "maestro",
)  # fmt: skip
WITH_CONTEXT = (
    "Call me on {v} after five.",
    "Mobile: {v}",
    "{name}'s phone number is {v}.",
    "Tel. {v} (office hours only)",
    "For urgent matters phone {v}.",
)
WITHOUT_CONTEXT = (
    "{name}: {v}",
    "Reach {name} at {v} tomorrow.",
    "The front desk is {v}.",
)
CARD_TEMPLATES = ("Card number {v}, expiry 09/29.", "Paid with {v}.", "credit card: {v}")
NEGATIVES = (
    "Order {order} shipped on {iso_date} at {clock}.",
    "Invoice {order} total: {amount} EUR.",
    "Version {version} was released on {dotted_date}.",
    "The meeting is on {slash_date} from {clock} to {clock}.",
    "Reference {order}, amount {amount}.",
    "Build {version} ({iso_date} {clock}:00)",
    "Total revenue: {spaced_amount} {currency}",
    "Tracking number {tracking}",
    "Population {spaced_amount} in {year}.",
    "Timestamp {epoch}",
)


def generate(seed: int = DEFAULT_SEED, per_locale: int = PER_LOCALE) -> list[LabelledText]:
    from faker import Faker

    rng = random.Random(seed)
    out: list[LabelledText] = []
    for locale in LOCALES:
        fake = Faker(locale)
        fake.seed_instance(seed)
        made = attempts = 0
        while made < per_locale and attempts < per_locale * 30:
            attempts += 1
            value = _written(str(fake.phone_number()), locale, rng)
            if value is None:
                continue
            templates = WITH_CONTEXT if rng.random() < 0.6 else WITHOUT_CONTEXT
            out.append(_place(rng.choice(templates), value, "pii.phone", fake.first_name(), locale))
            made += 1
    fake = Faker("en_US")
    fake.seed_instance(seed)
    for kind in CARD_TYPES:
        for _ in range(per_locale // 3):
            digits = str(fake.credit_card_number(card_type=kind))
            if not _published_range(digits):
                continue
            value = _grouped_card(digits, rng)
            out.append(_place(rng.choice(CARD_TEMPLATES), value, "pii.payment_card", "", kind))
    for _ in range(per_locale * len(LOCALES)):
        out.append(LabelledText(rng.choice(NEGATIVES).format(**_negative(rng)), ()))
    return out


def _written(raw: str, locale: str, rng: random.Random) -> str | None:
    """The number as Faker wrote it (an extension or a doubled space sometimes added)."""
    import phonenumbers

    region = locale.split("_")[1]
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number_for_region(parsed, region):
        return None
    value = raw
    roll = rng.random()
    if roll < 0.15 and "x" not in value:
        value += rng.choice((" x", " ext. ", " ext ", "x")) + str(rng.randint(1, 99999))
    elif roll < 0.3 and " " in value:
        at = rng.choice([m.start() for m in re.finditer(" ", value)])
        value = value[:at] + "  " + value[at + 1 :]
    return value


def _published_range(digits: str) -> bool:
    """Faker draws JCB from 35xx and some Maestro from 0604; the published ranges are
    3528-3589 (JCB) and no card opens with 0 (ISO/IEC 7812 major industry id 0)."""
    if digits.startswith("0"):
        return False
    return not (digits.startswith("35") and not 3528 <= int(digits[:4]) <= 3589)


def _grouped_card(digits: str, rng: random.Random) -> str:
    separator = rng.choice(("", " ", "-", ".", " "))
    if not separator:
        return digits
    if len(digits) == 15 and rng.random() < 0.7:  # amex: 4-6-5
        parts = [digits[:4], digits[4:10], digits[10:]]
    else:
        parts = [digits[i : i + 4] for i in range(0, len(digits), 4)]
    return separator.join(parts)


def _place(template: str, value: str, kind: str, name: str, subtype: str) -> LabelledText:
    head, tail = template.split("{v}", 1)
    before = head.format(name=name)
    text = before + value + tail.format(name=name)
    return LabelledText(text, (Span(kind, len(before), len(before) + len(value)),), subtype)


def _negative(rng: random.Random) -> dict[str, str]:
    year = rng.randint(2015, 2026)
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    thousands = f"{rng.randint(1, 999)} {rng.randint(0, 999):03d} {rng.randint(0, 999):03d}"
    return {
        "order": str(rng.randint(10_000_000, 9_999_999_999)),
        "iso_date": f"{year}-{month:02d}-{day:02d}",
        "dotted_date": f"{day:02d}.{month:02d}.{year}",
        "slash_date": f"{month:02d}/{day:02d}/{year}",
        "clock": f"{rng.randint(0, 23):02d}:{rng.choice(('00', '15', '30', '45'))}",
        "amount": f"{rng.randint(1, 99_999):,}.{rng.randint(0, 99):02d}",
        "spaced_amount": rng.choice((thousands, thousands.replace(" ", "."))),
        "currency": rng.choice(("EUR", "USD", "€", "people")),
        "version": ".".join(str(rng.randint(0, 20)) for _ in range(rng.choice((3, 4)))),
        "tracking": " ".join(f"{rng.randint(0, 9999):04d}" for _ in range(5)),
        "year": str(year),
        "epoch": str(rng.randint(1_500_000_000, 1_800_000_000)),
    }
