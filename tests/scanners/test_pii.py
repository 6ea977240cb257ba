"""PII details beyond the data cases: issuers, context words, overlaps, no crash on any text."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from proctor.scanners import Direction, PiiScanner
from proctor.scanners.phones import PhoneFinder
from proctor.scanners.pii.contact import EMAIL, email_matches
from proctor.scanners.pii.network import IPV6, ipv6_matches
from proctor.scanners.pii.payment import card_issuer


@pytest.mark.parametrize(
    ("number", "issuer"),
    [
        ("4111111111111111", "visa"),
        ("5555555555554444", "mastercard"),
        ("2223003122003222", "mastercard"),
        ("378282246310005", "amex"),
        ("6011111111111117", "discover"),
        ("3530111333300000", "jcb"),
        ("30569309025904", "diners"),
        ("180030802300250", "jcb"),
        ("213130802300259", "jcb"),
        ("630474852609", "maestro"),
        ("639000000000", "maestro"),
        ("1800308023002501", None),  # 1800 is JCB only with 15 digits
        ("1234567812345670", None),
        ("37828224631000", None),  # amex prefix, wrong length
    ],
)
def test_card_issuer(number: str, issuer: str | None) -> None:
    assert card_issuer(number) == issuer


def _score(text: str, kind: str) -> float:
    return max(f.score for f in PiiScanner().scan(text, Direction.INPUT) if f.type == kind)


def test_context_words_raise_and_lower_scores() -> None:
    plain = _score("x 4111 1111 1111 1111", "pii.payment_card")
    assert _score("credit card 4111 1111 1111 1111", "pii.payment_card") > plain
    assert _score("order number 4111 1111 1111 1111", "pii.payment_card") < plain


def test_a_card_is_not_also_a_phone() -> None:
    types = [f.type for f in PiiScanner().scan("4111 1111 1111 1111", Direction.INPUT)]
    assert types == ["pii.payment_card"]


def test_details_name_the_validator_not_the_value() -> None:
    (finding,) = PiiScanner().scan("IBAN DE89370400440532013000", Direction.INPUT)
    assert "mod-97" in finding.detail
    assert "370400" not in finding.detail


@given(st.text(alphabet=st.sampled_from("0123456789 -+().@:/aZ"), max_size=120))
def test_never_raises_and_spans_stay_inside(text: str) -> None:
    for finding in PiiScanner().scan(text, Direction.INPUT):
        assert 0 <= finding.start < finding.end <= len(text)


def _types(text: str) -> list[str]:
    return [f.type for f in PiiScanner().scan(text, Direction.INPUT) if f.score >= 0.5]


def test_a_named_national_id_beats_a_card_even_next_to_the_word_card() -> None:
    assert _types("Aadhaar card 5834 1019 0842") == ["pii.national_id.in_aadhaar"]


def test_an_ip_ending_a_sentence_keeps_its_span() -> None:
    text = "Point it at 94.49.183.166."
    (finding,) = PiiScanner().scan(text, Direction.INPUT)
    assert (finding.type, text[finding.start : finding.end]) == ("pii.ip_address", "94.49.183.166")


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Call +33 1 42 68 53 00 now", "+33 1 42 68 53 00"),
        ("Call +33 1 42 68 53 00 2024", "+33 1 42 68 53 00"),  # trailing year dropped
        ("mobile 0031 6 12345678.", "0031 6 12345678"),
        ("(415) 555-2671", "(415) 555-2671"),
    ],
)
def test_phone_spans(text: str, number: str) -> None:
    (phone,) = PhoneFinder("US").find(text)
    assert text[phone.start : phone.end] == number


def test_national_numbers_follow_the_default_region() -> None:
    assert [p.region for p in PhoneFinder("GB").find("ring 020 7946 0958")] == ["GB"]
    assert PhoneFinder("US").find("ring 020 7946 0958") == []


@pytest.mark.parametrize(
    "text",
    [
        "released 2024-05-15 at 10:30, total 1234.56",
        "build 3.10.13.10",
        "order 12345678 amount 31001.79",
        "ids 1234 5678 9012 3456 7890 12",
    ],
)
def test_digit_groups_that_are_not_phones(text: str) -> None:
    assert PhoneFinder("US").find(text) == []


def test_a_dense_record_finds_each_value_once() -> None:
    record = (
        "- id: '100234'\n  date: 2024-05-15\n  amount: 1234.56\n"
        "  sender: jane.doe@example.org\n  recipient: DE89370400440532013000\n"
        "  phone: +1 415 555 2671\n  card: 4111 1111 1111 1111\n  ip: 8.8.8.8.\n"
    )
    assert sorted(_types(record * 3)) == sorted(
        ["pii.email", "pii.iban", "pii.phone", "pii.payment_card", "pii.ip_address"] * 3
    )


@example("a@b.com@c.org")  # the second "@" lies in the first match's domain
@example("x" * 64 + "@a.io " + "y" * 65 + "@a.io")  # the longest local part, and one over
@example("é" + "a@b.io")  # a letter the local part cannot hold, just before it
@given(
    st.lists(
        st.sampled_from(
            ["a", "Z", "0", ".", "_", "-", "%", "@", " ", "é", "<", "a@b.io", "com", "x" * 62]
        ),
        max_size=40,
    ).map("".join)
)
def test_emails_found_from_their_at_signs_are_those_the_pattern_finds(text: str) -> None:
    expected = [m.span() for m in EMAIL.finditer(text)]
    assert [m.span() for m in email_matches(text)] == expected


@example("fe80::1:2:3:4:5:6:7:8 and 10:30:00")
@example("a:b:c:d ::1 x::")
@given(
    st.lists(
        st.sampled_from(["a", "F", "0", "12", ":", "::", ".", " ", "g", "_"]), max_size=40
    ).map("".join)
)
def test_ipv6_found_from_colon_pairs_are_those_the_pattern_finds(text: str) -> None:
    expected = [m.span() for m in IPV6.finditer(text)]
    assert [m.span() for m in ipv6_matches(text)] == expected


@pytest.mark.parametrize(
    "text",
    [
        "Call me on 0612345678 tonight.",  # NL mobile, national form
        "Mobile: 06 12 34 56 78",  # FR, pairs
        "Tel. 0412 345 678",  # AU mobile
        "phone 07700 900123",  # GB mobile
        "Tel: 030 12345678",  # DE Berlin
        "Call 98765 43210 after lunch.",  # IN mobile
        "Phone: (212) 555-0198 x4587",  # US with an extension
        "Phone: +44 20  7946 0958",  # irregular spacing
        "Tel 03-1234-5678",  # JP
        "Ligue (11) 91234-5678",  # BR
    ],
)
def test_national_phone_numbers_across_the_default_regions(text: str) -> None:
    assert "pii.phone" in _types(text)


def test_an_extension_belongs_to_the_number() -> None:
    text = "Phone: (212) 555-0198 x4587"
    (finding,) = [f for f in PiiScanner().scan(text, Direction.INPUT) if f.type == "pii.phone"]
    assert text[finding.start : finding.end] == "(212) 555-0198 x4587"


def test_a_possible_number_is_found_only_near_a_phone_word_at_a_lower_score() -> None:
    near = list(PiiScanner().scan("phone: +1 199 555 0100", Direction.INPUT))
    assert [f.type for f in near] == ["pii.phone"]
    assert near[0].score < 0.5
    assert "possible phone number (not valid in US)" in near[0].detail
    assert PiiScanner().scan("batch +1 199 555 0100", Direction.INPUT) == []


@pytest.mark.parametrize(
    "text",
    [
        "Order 2024-05-19 11:30 shipped.",
        "Released 12.03.2024 at 14:45.",
        "Version 10.4.12.7 is out.",
        "Total revenue: 912 345 678 EUR",
        "Population 1.234.567 in 2020.",
        "Invoice 48213377 total: 1,234.56 EUR.",
        "Build 20240519 passed.",
    ],
)
def test_dates_versions_amounts_and_orders_are_not_phones(text: str) -> None:
    assert "pii.phone" not in _types(text)
    assert "pii.payment_card" not in _types(text)


@pytest.mark.parametrize(
    "card",
    ["4111.1111.1111.1111", "5500-0000-0000-0004", "3782 822463 10005", "3530 1113 3330 0000"],
)
def test_cards_with_spaces_dashes_or_dots(card: str) -> None:
    assert _types(f"card {card}") == ["pii.payment_card"]


def test_phone_regions_come_from_the_scanning_section() -> None:
    from proctor.scanners.errors import ScanError
    from proctor.scanners.loading import configured_scanners

    (scanner,) = configured_scanners(["pii"], {"pii": {"phone_regions": ["DE"]}})
    assert isinstance(scanner, PiiScanner)
    assert scanner.phone_regions == ("DE",)
    with pytest.raises(ScanError) as caught:
        configured_scanners(["pii"], {"pii": {"phone_regions": ["XX"]}})
    assert caught.value.code == "invalid_scanner_options"
    with pytest.raises(ScanError):
        configured_scanners(["pii"], {"pii": {"phone_regions": "DE"}})
    with pytest.raises(ScanError):
        configured_scanners(["secrets"], {"pii": {"phone_regions": ["DE"]}})
