"""Section 4's corpus: template sentences holding PII values, with their spans, and negatives.

Values come from a seeded ``Faker`` in several locales; each is checked by the
reference validator of its type (``phonenumbers``, Luhn, ``python-stdnum``,
``ipaddress``) and dropped when invalid, so the gold set holds only values a
validating scanner should find. Phone numbers outside North America are
written in international form (``+49 30 ...``): the scanner's default region
is US, and a national number without its country is ambiguous. Negatives are
the look-alikes ordinary text is full of: order, invoice and tracking numbers,
version strings, card numbers and IBANs with a wrong check digit, SSNs in
never-issued ranges, dates that are not birthdays, timestamps.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

DEFAULT_SEED = 4242
PER_TYPE = 150
PER_NATIONAL_ID = 40
NEGATIVES = 900
BUILD_PARTS = ((10, 26), (0, 9), (1000, 29999), (1, 999))

PHONE_LOCALES = ("en_US", "en_CA", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pt_BR")
IBAN_LOCALES = ("de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "en_GB", "fi_FI", "pt_BR")
NAME_LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL")

TEMPLATES: dict[str, tuple[str, ...]] = {
    "pii.email": (
        "You can reach {name} at {v} for anything about the renewal.",
        "Contact: {v}",
        "Forwarded message from {v}, see the thread below.",
        "Please add {v} to the distribution list.",
        "{name} <{v}> wrote on Tuesday:",
    ),
    "pii.phone": (
        "Call me on {v} after five.",
        "Mobile: {v}",
        "{name}'s phone number is {v}.",
        "If the delivery fails, the courier will ring {v}.",
        "Tel. {v} (office hours only)",
    ),
    "pii.payment_card": (
        "Card number {v}, expiry 09/29.",
        "Please charge the deposit to {v}.",
        "The customer paid with the Visa/Mastercard ending in the number {v}.",
        "Credit card: {v}",
        "{name} read out {v} over the phone for the booking.",
    ),
    "pii.iban": (
        "Please transfer the amount to {v} by Friday.",
        "IBAN: {v}",
        "Our bank details have changed; the new account is {v}.",
        "Refunds go to {name}, {v}.",
        "Pay the invoice to account {v}, reference the contract number.",
    ),
    "pii.ssn": (
        "SSN: {v}",
        "{name}'s social security number is {v}.",
        "The W-2 lists SSN {v} for the employee.",
        "Please confirm the last digits of SSN {v} before we file.",
    ),
    "pii.ip_address": (
        "Login attempt from {v} was blocked.",
        "The client IP address was {v} according to the access log.",
        "Point the DNS record at {v}.",
        "Host {v} stopped answering health checks at 03:12.",
    ),
    "pii.date_of_birth": (
        "{name} was born on {v} in {city}.",
        "Date of birth: {v}",
        "DOB {v}, verified against the passport.",
        "Her birthday is {v}, so the policy starts that week.",
    ),
    "pii.national_id": (
        "{label}: {v}",
        "Please verify {label} {v} for {name}.",
        "The form lists {label} {v}.",
    ),
}

NATIONAL_IDS: dict[str, tuple[str, str, str]] = {
    # type: (Faker locale, provider method, label written next to it)
    "pii.national_id.es_dni": ("es_ES", "nif", "DNI"),
    "pii.national_id.it_codice_fiscale": ("it_IT", "ssn", "codice fiscale"),
    "pii.national_id.br_cpf": ("pt_BR", "cpf", "CPF"),
    "pii.national_id.fi_hetu": ("fi_FI", "ssn", "henkilötunnus"),
    "pii.national_id.nl_bsn": ("nl_NL", "ssn", "BSN"),
    "pii.national_id.ca_sin": ("en_CA", "ssn", "SIN"),
    "pii.national_id.in_aadhaar": ("en_IN", "aadhaar_id", "Aadhaar number"),
}

NEGATIVE_TEMPLATES: tuple[str, ...] = (
    "Order #{order} shipped today.",
    "Your order number is {order}; keep it for returns.",
    "Invoice INV-{year}-{small} is due on {date}.",
    "Tracking number 1Z{ups} (UPS Ground).",
    "USPS tracking {usps}, expected delivery {weekday}.",
    "Upgrade to version {version} before the weekend.",
    "Build {build} passed all checks.",
    "The test card {bad_card} was declined (checksum).",
    "IBAN {bad_iban} was rejected by the bank: invalid check digits.",
    "Placeholder SSN {bad_ssn} on the sample form.",
    "The meeting on {iso_date} moved to room {room}.",
    "Ticket {ticket} was closed on {iso_date}.",
    "ISBN {isbn} is out of print.",
    "Reference {reference}, amount ${amount}.",
    "The warehouse at postcode {zip} received {order} units.",
    "Serial {serial} is covered until {iso_date}.",
    "start_time: {iso_date} {clock}",  # a calendar entry's timestamp, as tool outputs write it
)


@dataclass(frozen=True, slots=True)
class Span:
    type: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class LabelledText:
    text: str
    spans: tuple[Span, ...]
    subtype: str = ""  # the exact type for national ids


def report_type(finding_type: str) -> str:
    """National ids are reported together; their exact types are kept in ``subtype``."""
    return "pii.national_id" if finding_type.startswith("pii.national_id") else finding_type


class _Fakers:
    def __init__(self, seed: int) -> None:
        from faker import Faker

        self._seed = seed
        self._by_locale: dict[str, Any] = {}
        self._factory = Faker

    def __call__(self, locale: str) -> Any:
        fake = self._by_locale.get(locale)
        if fake is None:
            fake = self._factory(locale)
            fake.seed_instance(self._seed)
            self._by_locale[locale] = fake
        return fake


def _phone(fakers: _Fakers, rng: random.Random) -> str | None:
    import phonenumbers

    locale = rng.choice(PHONE_LOCALES)
    region = locale.split("_")[1]
    raw = fakers(locale).phone_number()
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed) or parsed.extension:
        return None
    if region in ("US", "CA"):
        return str(raw)
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL))


def _card(fakers: _Fakers, rng: random.Random) -> str | None:
    from stdnum import luhn

    number = str(fakers("en_US").credit_card_number())
    if not luhn.is_valid(number):
        return None
    if rng.random() < 0.4 and len(number) == 16:
        return " ".join(number[i : i + 4] for i in range(0, 16, 4))
    return number


def _iban(fakers: _Fakers, rng: random.Random) -> str | None:
    from stdnum import iban

    value = str(fakers(rng.choice(IBAN_LOCALES)).iban())
    if not iban.is_valid(value):
        return None
    return iban.format(value) if rng.random() < 0.5 else value


def _ssn(fakers: _Fakers, rng: random.Random) -> str | None:
    value = str(fakers("en_US").ssn())
    area, group, serial = value.split("-")
    if area in ("000", "666") or area >= "900" or group == "00" or serial == "0000":
        return None
    return value


def _ip(fakers: _Fakers, rng: random.Random) -> str | None:
    import ipaddress

    fake = fakers("en_US")
    value = str(fake.ipv4_public() if rng.random() < 0.6 else fake.ipv6())
    return value if ipaddress.ip_address(value).is_global else None


def _birth_date(fakers: _Fakers, rng: random.Random) -> str | None:
    born = fakers("en_US").date_of_birth(minimum_age=18, maximum_age=90)
    style = rng.randrange(4)
    if style == 0:
        return str(born.isoformat())
    if style == 1:
        return f"{born.strftime('%B')} {born.day}, {born.year}"
    if style == 2:
        return f"{born.day} {born.strftime('%B')} {born.year}"
    return str(born.strftime("%m/%d/%Y"))


VALUES: dict[str, Callable[[_Fakers, random.Random], str | None]] = {
    "pii.email": lambda fakers, rng: str(fakers(rng.choice(NAME_LOCALES)).email()),
    "pii.phone": _phone,
    "pii.payment_card": _card,
    "pii.iban": _iban,
    "pii.ssn": _ssn,
    "pii.ip_address": _ip,
    "pii.date_of_birth": _birth_date,
}


def _national_id(fakers: _Fakers, kind: str) -> str | None:
    from stdnum.br import cpf
    from stdnum.ca import sin
    from stdnum.es import dni, nie
    from stdnum.fi import hetu
    from stdnum.in_ import aadhaar
    from stdnum.it import codicefiscale
    from stdnum.nl import bsn

    validators: dict[str, Callable[[str], bool]] = {
        "pii.national_id.es_dni": lambda v: dni.is_valid(v) and not nie.is_valid(v),
        "pii.national_id.it_codice_fiscale": codicefiscale.is_valid,
        "pii.national_id.br_cpf": cpf.is_valid,
        "pii.national_id.fi_hetu": hetu.is_valid,
        "pii.national_id.nl_bsn": bsn.is_valid,
        "pii.national_id.ca_sin": sin.is_valid,
        "pii.national_id.in_aadhaar": aadhaar.is_valid,
    }
    locale, method, _ = NATIONAL_IDS[kind]
    value = str(getattr(fakers(locale), method)())
    return value if validators[kind](value) else None


def _place(template: str, value: str, kind: str, slots: dict[str, str]) -> LabelledText:
    head, tail = template.split("{v}", 1)
    before = head.format(**slots)
    text = before + value + tail.format(**slots)
    subtype = kind if kind.startswith("pii.national_id.") else ""
    span = Span(report_type(kind), len(before), len(before) + len(value))
    return LabelledText(text, (span,), subtype)


def generate(
    seed: int = DEFAULT_SEED,
    per_type: int = PER_TYPE,
    per_national_id: int = PER_NATIONAL_ID,
    negatives: int = NEGATIVES,
) -> tuple[list[LabelledText], dict[str, int]]:
    """The labelled corpus and, per type, how many generated values failed validation."""
    # Some Faker providers (es_ES ids) draw from the global ``random``: seed it, then restore.
    state = random.getstate()
    random.seed(seed)
    try:
        return _generate(seed, per_type, per_national_id, negatives)
    finally:
        random.setstate(state)


def _generate(
    seed: int, per_type: int, per_national_id: int, negatives: int
) -> tuple[list[LabelledText], dict[str, int]]:
    rng = random.Random(seed)
    fakers = _Fakers(seed)
    corpus: list[LabelledText] = []
    dropped: dict[str, int] = {}
    jobs: list[tuple[str, int, Callable[[], str | None]]] = [
        (kind, per_type, lambda make=make: make(fakers, rng)) for kind, make in VALUES.items()
    ]
    jobs += [
        (kind, per_national_id, lambda kind=kind: _national_id(fakers, kind))
        for kind in NATIONAL_IDS
    ]
    for kind, wanted, make in jobs:
        made = attempts = 0
        while made < wanted and attempts < wanted * 20:
            attempts += 1
            value = make()
            if value is None:
                dropped[kind] = dropped.get(kind, 0) + 1
                continue
            slots = _slots(fakers, rng, kind)
            template = rng.choice(TEMPLATES[report_type(kind)])
            corpus.append(_place(template, value, kind, slots))
            made += 1
    corpus.extend(
        LabelledText(rng.choice(NEGATIVE_TEMPLATES).format(**_negative_slots(fakers, rng)), ())
        for _ in range(negatives)
    )
    return corpus, dropped


def _slots(fakers: _Fakers, rng: random.Random, kind: str) -> dict[str, str]:
    fake = fakers(rng.choice(NAME_LOCALES))
    label = NATIONAL_IDS[kind][2] if kind in NATIONAL_IDS else ""
    return {"name": str(fake.name()), "city": str(fake.city()), "label": label}


def _negative_slots(fakers: _Fakers, rng: random.Random) -> dict[str, str]:
    from stdnum import luhn

    fake = fakers("en_US")
    digits = str(fake.credit_card_number())
    last = (int(luhn.calc_check_digit(digits[:-1])) + rng.randint(1, 9)) % 10
    good_iban = str(fakers(rng.choice(IBAN_LOCALES)).iban())
    check = (int(good_iban[2:4]) + rng.randint(1, 50)) % 97 + 2
    year = rng.randint(2019, 2026)
    bad_area = rng.choice(["000", "666", str(rng.randint(900, 999))])
    return {
        "order": str(rng.randint(10_000_000, 9_999_999_999)),
        "year": str(year),
        "small": f"{rng.randint(1, 99_999):06d}",
        "date": f"{fake.month_name()} {rng.randint(1, 28)}, {year}",
        "iso_date": f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "clock": f"{rng.randint(0, 23):02d}:{rng.choice(('00', '15', '30', '45'))}",
        "ups": "".join(rng.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(16)),
        "usps": " ".join(f"{rng.randint(0, 9999):04d}" for _ in range(5))
        + f" {rng.randint(10, 99)}",
        "weekday": str(fake.day_of_week()),
        "version": ".".join(str(rng.randint(0, 20)) for _ in range(rng.choice((3, 4)))),
        "build": ".".join(str(rng.randint(low, high)) for low, high in BUILD_PARTS),
        "bad_card": digits[:-1] + str(last),
        "bad_iban": good_iban[:2] + f"{check:02d}" + good_iban[4:],
        "bad_ssn": f"{bad_area}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}",
        "room": f"{rng.randint(1, 9)}.{rng.randint(1, 40):02d}",
        "ticket": f"#{rng.randint(1000, 999_999)}",
        "isbn": str(fake.isbn13()),
        "reference": f"REF-{rng.randint(100_000, 999_999)}",
        "amount": f"{rng.randint(1, 9_999):,}.{rng.randint(0, 99):02d}",
        "zip": str(fake.postcode()),
        "serial": f"SN{rng.randint(10**9, 10**10 - 1)}",
    }
