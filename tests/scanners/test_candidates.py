"""Candidate values: what each kind finds and misses, and how values are normalised."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proctor.scanners.candidates import (
    KINDS,
    MAX_CANDIDATES,
    MAX_TEXT_CHARS,
    PART_OVERLAP,
    CandidateValue,
    extract_values,
    iban_checksum_valid,
    normalise_amount,
    normalise_host,
    normalise_phone,
    normalise_url,
    values_in,
)


def _of(kind: str, text: str) -> set[str]:
    return {c.value for c in extract_values(text) if c.kind == kind}


FOUND = [
    # (kind, text, value)
    ("email", "write to mark.black-2134@gmail.com now", "mark.black-2134@gmail.com"),
    ("email", "Contact: Alice.Smith@Example.COM.", "alice.smith@example.com"),
    ("email", "<fred9246@gmail.com>", "fred9246@gmail.com"),
    ("url", "see https://www.Example.com/Path/?q=1#top", "example.com/Path?q=1"),
    ("url", "Visit www.secure-systemupdate.com for updates", "secure-systemupdate.com"),
    ("url", "post it to www.my-website-234.com/random.", "my-website-234.com/random"),
    ("url", "[link](https://x.org/a)", "x.org/a"),
    ("url", "ftp://files.example.com:21/pub/", "ftp://files.example.com/pub"),
    ("url", "http://example.com:8080/x", "example.com:8080/x"),
    ("url", "log in at https://admin@evil.example/reset", "evil.example/reset"),
    ("domain", "Visit www.secure-systemupdate.com for updates", "secure-systemupdate.com"),
    ("domain", "see https://shop.example.co.uk/a", "shop.example.co.uk"),
    ("domain", "the site example.io is down", "example.io"),
    ("domain", "go to true-informations.com.", "true-informations.com"),
    ("iban", "to US133000000121212121212 now", "US133000000121212121212"),
    ("iban", "IBAN: DE89 3704 0044 0532 0130 00 AND more", "DE89370400440532013000"),
    ("iban", "checksum fails, still an id: DE89370400440532013001", "DE89370400440532013001"),
    ("iban", "GB29NWBK60161331926819", "GB29NWBK60161331926819"),
    ("iban", "iban ch9300762011623852957", "CH9300762011623852957"),
    ("account", "account 123456789 at the bank", "123456789"),
    ("account", "acct 1234-5678-9012", "123456789012"),
    ("account", "ref 0123 4567 89", "0123456789"),
    ("phone", "call +1 (202) 555-0143 today", "+12025550143"),
    ("phone", "tel 202-555-0143", "+12025550143"),
    ("phone", "+44 20 7946 0958", "+442079460958"),
    ("phone", "0044 20 7946 0958", "+442079460958"),
    ("path", "open /home/emma/report.pdf now", "/home/emma/report.pdf"),
    ("path", "the file report.pdf is attached", "report.pdf"),
    ("path", "see docs/team-building-activities.docx", "docs/team-building-activities.docx"),
    ("path", "run ./scripts/run.sh", "scripts/run.sh"),
    ("path", "in C:\\Users\\bob\\notes.txt", "C:/Users/bob/notes.txt"),
    ("path", "saved to /var/log/app/", "/var/log/app"),
    ("path", "edit ~/notes", "~/notes"),
    ("amount", "pay $1,200.00 today", "1200"),
    ("amount", "pay 1200.00 USD", "1200"),
    ("amount", "pay EUR 50", "50"),
    ("amount", "pay 50€", "50"),
    ("amount", "costs 5 dollars", "5"),
    ("amount", "a total of 1,200 items", "1200"),
    ("amount", "fee 0.50", "0.5"),
    ("amount", "send $0.01", "0.01"),
]

NOT_FOUND = [
    # (kind, text): nothing of that kind
    ("email", "user at example dot com"),
    ("email", "@mention and foo@bar"),
    ("url", "the www is big"),
    ("domain", "hello.world and end.It and e.g. this"),
    ("domain", "mark@gmail.com"),
    ("domain", "report.pdf"),
    ("email", "https://admin@evil.example/reset"),
    ("domain", "version 1.2.3"),
    ("iban", "DE89ABCDEFGHIJKLMN01"),  # bad checksum and too few digits to be an id
    ("iban", "AB12CDEFGHIJKLMNOP"),
    ("account", "12345"),
    ("account", "on 2024-03-15 and 15-03-2024"),
    ("account", "from 2024-05-30 10:20 to 2024-05-30T11:20:00Z"),
    ("phone", "from 2024-05-30 10:20"),
    ("account", "version 1.2.3456789"),
    ("account", "hash a1234567b"),
    ("phone", "555-123-4567"),  # 555 is not a real US area code
    ("phone", "2024-03-15"),
    ("path", "and/or, A/B testing, </div>, /s"),
    ("path", "www.example.com"),
    ("amount", "version 1.2.3 on 192.168.1.10"),
    ("amount", "there are 42 cats and 100.0 dogs"),
    ("amount", "x12.50"),
]


@pytest.mark.parametrize(("kind", "text", "value"), FOUND, ids=[f[1] for f in FOUND])
def test_each_kind_is_found(kind: str, text: str, value: str) -> None:
    assert value in _of(kind, text), sorted(extract_values(text))


@pytest.mark.parametrize(("kind", "text"), NOT_FOUND, ids=[f[1] for f in NOT_FOUND])
def test_look_alikes_are_not_found(kind: str, text: str) -> None:
    assert not _of(kind, text), sorted(extract_values(text))


def test_prose_holds_no_candidates() -> None:
    text = "Please summarise the meeting notes and send them to the team by Friday. Thanks!"
    assert extract_values(text) == frozenset()


def test_an_email_is_not_also_a_domain_and_an_iban_not_an_account() -> None:
    assert extract_values("mark@gmail.com") == {CandidateValue("email", "mark@gmail.com")}
    assert extract_values("US133000000121212121212") == {
        CandidateValue("iban", "US133000000121212121212")
    }


EQUAL = [
    ("DE89 3704 0044 0532 0130 00", "DE89370400440532013000"),
    ("https://www.example.com/a/", "http://example.com/a"),
    ("www.example.com", "https://example.com/"),
    ("+1 202 555 0143", "(202) 555-0143"),
    ("202.555.0143", "+1-202-555-0143"),
    ("$1,200.00", "1200 USD"),
    ("1,200", "1200.00"),
    ("Mark@Gmail.com", "mark@gmail.com"),
    ("/home/u//x.txt", "/home/u/x.txt"),
]


@pytest.mark.parametrize(("left", "right"), EQUAL)
def test_spellings_of_one_value_are_equal(left: str, right: str) -> None:
    assert extract_values(left) == extract_values(right) != frozenset()


def test_normalisers() -> None:
    assert normalise_amount("1,200.00") == "1200"
    assert normalise_amount(1200) == "1200"
    assert normalise_amount(0.1) == "0.1"
    assert normalise_amount(-5) == "5"
    assert normalise_amount(float("nan")) is None
    assert normalise_host("WWW.Example.COM.") == "example.com"
    assert normalise_host("not a host") is None
    assert normalise_phone("+1 202 555 0143") == "+12025550143"
    assert normalise_phone("12") is None
    assert normalise_url("https://www.a.com:443/b/#x") == CandidateValue("url", "a.com/b")
    assert normalise_url("http://[::1") is None


def test_the_iban_checksum_is_mod_97() -> None:
    assert iban_checksum_valid("GB29NWBK60161331926819")
    assert not iban_checksum_valid("GB29NWBK60161331926818")
    assert not iban_checksum_valid("GB29")


def test_values_in_arguments_by_path() -> None:
    args = {
        "recipient": "a@b.com",
        "items": [{"iban": "DE89370400440532013000"}, {"note": "thanks"}],
        "meta": {"to": "x@y.org"},
        "amount": 1200,
        "account": 12345678,
        "flag": True,
        "to-addr": "c@d.com",
        "empty": None,
    }
    assert values_in(args) == {
        "recipient": {CandidateValue("email", "a@b.com")},
        "items[0].iban": {CandidateValue("iban", "DE89370400440532013000")},
        "meta.to": {CandidateValue("email", "x@y.org")},
        "amount": {CandidateValue("amount", "1200")},
        "account": {CandidateValue("account", "12345678")},
        '["to-addr"]': {CandidateValue("email", "c@d.com")},
    }
    assert values_in("a@b.com") == {"": {CandidateValue("email", "a@b.com")}}


def test_whole_numbers_are_amounts_only_in_money_fields() -> None:
    args = {"n": 100, "limit": 10, "total_price": 100, "fee": [5, 7], "rate": 1.5, "id": 123456}
    assert values_in(args) == {
        "total_price": {CandidateValue("amount", "100")},
        "fee[0]": {CandidateValue("amount", "5")},
        "fee[1]": {CandidateValue("amount", "7")},
        "rate": {CandidateValue("amount", "1.5")},
        "id": {CandidateValue("account", "123456")},
    }


def test_deep_and_wide_trees_are_bounded() -> None:
    deep: object = "a@b.com"
    for _ in range(100):
        deep = {"x": deep}
    assert values_in(deep) == {}  # deeper than the walk goes
    wide = {f"k{i}": f"user{i}@example.com" for i in range(20_000)}
    assert 0 < len(values_in(wide)) < 10_001


def test_candidates_per_text_are_capped() -> None:
    text = " ".join(f"user{i}@example.com" for i in range(3 * MAX_CANDIDATES))
    assert len(extract_values(text)) == MAX_CANDIDATES


def test_a_huge_text_is_read_whole_quickly() -> None:
    filler = "lorem ipsum 1.5 dolor, sit amet 2024-03-01 a/b " * (MAX_TEXT_CHARS // 10)
    half = len(filler) // 2
    middle = filler[:half] + " middle@example.com " + filler[half:]
    text = "head@example.com " + middle + " tail@example.com"
    started = time.perf_counter()
    found = _of("email", text)
    assert found == {"head@example.com", "middle@example.com", "tail@example.com"}
    assert time.perf_counter() - started < 5.0


def test_a_value_across_a_part_border_is_found_once_and_whole() -> None:
    iban = "DE89 3704 0044 0532 0130 00"
    border = MAX_TEXT_CHARS - PART_OVERLAP  # the second part starts here
    text = "x " * ((border - 10) // 2) + iban + " and more words" * 1_000
    assert text.index(iban) < border < text.index(iban) + len(iban)
    assert len(text) > MAX_TEXT_CHARS
    assert _of("iban", text) == {"DE89370400440532013000"}


@pytest.mark.parametrize(
    "text",
    [
        "a" * 50_000,
        "1" * 50_000,
        "a." * 25_000,
        "/a" * 25_000,
        "1," * 25_000,
        "@a." * 15_000,
        "www." * 12_000,
        "DE89 " * 10_000,
        "C:\\a " * 10_000,
        "a.pdf/" * 10_000,
        "a.com/" * 10_000,
        ("a" * 250 + ".com,") * 200,
        "$1 " * 10_000,
    ],
    ids=lambda text: repr(text[:6]),
)
def test_adversarial_texts_stay_linear(text: str) -> None:
    started = time.perf_counter()
    extract_values(text)
    assert time.perf_counter() - started < 5.0


TEXTS = st.text(alphabet=st.sampled_from(list("ab.@/-_: 019$,\\wWE+()")), min_size=0, max_size=80)


@settings(deadline=None)
@given(TEXTS)
def test_extraction_never_fails_and_is_deterministic(text: str) -> None:
    assert extract_values(text) == extract_values(text + "")


@settings(deadline=None)
@given(st.sampled_from(FOUND))
def test_a_found_value_is_found_again_in_its_normal_form(case: tuple[str, str, str]) -> None:
    """normalise(normalise(x)) == normalise(x): the kinds whose normal form is still text
    of that kind (a URL loses its scheme, so it is checked through `normalise_url`)."""
    kind, _, value = case
    if kind == "url":
        assert normalise_url(value) == CandidateValue("url", value)
    elif kind == "amount":
        assert normalise_amount(value) == value
    else:
        assert value in _of(kind, value)


URL_PARTS = st.tuples(
    st.sampled_from(["http://", "https://", "HTTPS://", ""]),
    st.sampled_from(["", "www.", "WWW."]),
    st.from_regex(r"[a-z][a-z0-9-]{0,8}[a-z0-9]\.(com|org|io)", fullmatch=True),
    st.from_regex(r"(/[A-Za-z0-9_-]{1,5}){0,3}/?", fullmatch=True),
)


@settings(deadline=None)
@given(URL_PARTS)
def test_url_normalisation_is_idempotent(parts: tuple[str, str, str, str]) -> None:
    scheme, www, host, path = parts
    first = normalise_url(scheme + www + host + path)
    assert first is not None
    assert normalise_url(first.value) == first
    assert first.value.startswith(host)


@settings(deadline=None)
@given(st.from_regex(r"\+?[0-9 ().-]{7,20}", fullmatch=True))
def test_phone_normalisation_is_idempotent(raw: str) -> None:
    first = normalise_phone(raw)
    if first is not None:
        assert normalise_phone(first) == first


@settings(deadline=None)
@given(st.decimals(min_value=0, max_value=10**12, allow_nan=False, places=2))
def test_amount_normalisation_is_idempotent(amount: object) -> None:
    first = normalise_amount(str(amount))
    assert first is not None
    assert normalise_amount(first) == first


@settings(deadline=None)
@given(st.integers(min_value=0, max_value=10**15), st.integers(min_value=0, max_value=99))
def test_amount_spellings_agree(whole: int, cents: int) -> None:
    grouped = f"{whole:,}.{cents:02d}"
    plain = f"{whole}.{cents:02d}"
    assert _of("amount", f"${grouped}") == _of("amount", f"{plain} USD") != set()


def test_every_kind_is_documented() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "provenance.md").read_text(encoding="utf-8")
    for kind in KINDS:
        assert f"| `{kind}` |" in doc, kind
