"""What a decision record keeps of a call's arguments (`audit.store_args`), through `proctor check`.

By default every personal-data and secret finding is out of the stored
arguments, whatever the policies scan for (here only `secret: deny`, or no
`scan:` section at all); `clear` and `digest` are the explicit alternatives.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from proctor.audit.canonical import digest
from proctor.cli.main import cli
from proctor.errors import ErrorGroup
from proctor.storage import open_audit_store

CARD = "4111 1111 1111 1111"
EMAIL = "dana.fischer@example.org"
IBAN = "DE89370400440532013000"
KEY = "AKIAIOSFODNN7EXAMPLE"
ARGS = {"card": CARD, "notify": [EMAIL], "pay": {"iban": IBAN}, "amount": 80, "region": "eu"}

CONFIG = """\
policies: [policy.yaml]
agents: [{{id: bot, role: payer, tier: verified}}]
roles: {{payer: {{scopes: ["write:*"]}}}}
storage: {{audit: audit.db}}
{audit}"""
SECRET_ONLY = """\
name: payments
rules: [{id: pay, action: "write:payment", effect: allow}]
scan:
  input: {secret: deny}
"""
NO_SCAN = 'name: payments\nrules: [{id: pay, action: "write:payment", effect: allow}]\n'


def _check(tmp_path: Path, args: dict[str, Any], *, policy: str, audit: str = "") -> Any:
    (tmp_path / "proctor.yaml").write_text(CONFIG.format(audit=audit))
    (tmp_path / "policy.yaml").write_text(policy)
    options = [f"--arg={key}={json.dumps(value)}" for key, value in args.items()]
    config = ["--config", str(tmp_path / "proctor.yaml"), "--agent", "bot", "--json"]
    result = CliRunner().invoke(cli, ["check", *config, *options, "write:payment"])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    store = open_audit_store(str(tmp_path / "audit.db"))
    try:
        (record,) = store.tail(10)
    finally:
        store.close()
    return json.loads(result.output), record


@pytest.mark.parametrize("policy", [SECRET_ONLY, NO_SCAN], ids=["secret-only", "no-scan"])
def test_personal_data_never_reaches_the_record_by_default(tmp_path: Path, policy: str) -> None:
    decision, record = _check(tmp_path, ARGS, policy=policy)
    assert decision["effect"] == "allow"
    stored = json.dumps(record)
    for value in (CARD, EMAIL, IBAN, "1111 1111"):
        assert value not in stored
    assert record["args"]["amount"] == 80
    assert record["args"]["region"] == "eu"
    assert record["args_digest"] == digest(ARGS)  # the record still binds the exact call
    redacted = {(item["path"], item["type"]) for item in record["extra"]["args_redacted"]}
    assert redacted == {
        ("$.card", "pii.payment_card"),
        ("$.notify[0]", "pii.email"),
        ("$.pay.iban", "pii.iban"),
    }
    assert "findings" not in record["extra"] or policy == SECRET_ONLY


def test_a_secret_the_policy_denies_is_redacted_too(tmp_path: Path) -> None:
    decision, record = _check(tmp_path, {"key": KEY, "to": EMAIL}, policy=SECRET_ONLY)
    assert decision["effect"] == "deny"
    assert KEY not in json.dumps(record)
    assert EMAIL not in json.dumps(record)
    assert [item["type"] for item in record["extra"]["args_redacted"]] == [
        "secret.aws_access_key",
        "pii.email",
    ]


def test_arguments_without_personal_data_are_kept_as_given(tmp_path: Path) -> None:
    args = {"region": "eu", "tags": ["vip", "new"], "order": "A-1001", "amount": 40}
    _, record = _check(tmp_path, args, policy=NO_SCAN)
    assert record["args"] == args
    assert "args_redacted" not in record["extra"]


def test_clear_is_an_explicit_opt_out(tmp_path: Path) -> None:
    _, record = _check(tmp_path, ARGS, policy=SECRET_ONLY, audit="audit: {store_args: clear}\n")
    assert record["args"] == ARGS


def test_digest_keeps_no_argument(tmp_path: Path) -> None:
    _, record = _check(tmp_path, ARGS, policy=NO_SCAN, audit="audit: {store_args: digest}\n")
    assert record["args"] == {}
    assert record["extra"]["args_stored"] == "digest"
    assert record["args_digest"] == digest(ARGS)


@pytest.mark.parametrize("value", ["plain", "[clear]", "true", "null"])
def test_an_unknown_mode_is_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(ErrorGroup) as raised:
        _check(tmp_path, ARGS, policy=NO_SCAN, audit=f"audit: {{store_args: {value}}}\n")
    (error,) = raised.value.errors
    assert error.code == "config_invalid_value"
    assert "store_args" in error.message
    assert not (tmp_path / "audit.db").exists()


def test_arguments_past_the_scan_bounds_keep_only_their_digest(tmp_path: Path) -> None:
    """What cannot be scanned whole is not stored: no value in clear (fail closed)."""
    wide = {f"k{index}": "x" for index in range(6000)}  # past the scan's 10,000 values
    wide["k5999"] = EMAIL
    _, record = _check(tmp_path, {"wide": wide}, policy=NO_SCAN)
    assert EMAIL not in json.dumps(record)
    assert record["args"] == {}
    assert record["extra"]["args_stored"] == "digest"


def test_plain_arguments_skip_the_records_scan_with_the_built_in_scanners() -> None:
    # the common call (numbers, short names) must not pay for a scan: the built-in
    # pattern scanners, wherever their modules live, find nothing there
    from proctor.runtime.scanning import ContentGuard
    from proctor.scanners.loading import build_cascade

    cascade = build_cascade(["pii", "secrets"])
    wanted = ["pii", "secret"]
    plain = {"amount": 1054, "region": "eu", "tags": ["new", "vip"]}
    assert ContentGuard._skips(cascade, plain, wanted)
    assert not ContentGuard._skips(cascade, {"to": "bob@example.com"}, wanted)
    assert not ContentGuard._skips(cascade, {"note": "x" * 16}, wanted)
    # letters alone skip the pattern test; other short text takes it, and so do names
    assert ContentGuard._skips(cascade, {"mode": "read only", "who": "o'brien-smith"}, wanted)
    assert not ContentGuard._skips(cascade, {"mode": "bob@x"}, wanted)
    for _ in range(2):  # a plain name is remembered; a name with a mark never passes
        assert not ContentGuard._skips(cascade, {"to=bob@example.com": True}, wanted)
        assert not ContentGuard._skips(cascade, {"x" * 16: 1}, wanted)
        assert not ContentGuard._skips(cascade, {"region": {"nested": "a:b"}}, wanted)
    # a list's items are read as the mapping's values are, at any depth the skip allows
    assert ContentGuard._skips(cascade, {"tags": ["new", 2, None, ["vip"], {"k": "v"}]}, wanted)
    for item in ("bob@x", "x" * 16, ["a:b"], {"k": "a=b"}, {"a:b": 1}, b"raw"):
        assert not ContentGuard._skips(cascade, {"tags": ["new", item]}, wanted)
    deep: list[object] = ["vip"]
    for depth in range(1, 9):  # deeper trees take the full scan
        deep = [deep]
        assert ContentGuard._skips(cascade, {"tags": deep}, wanted) is (depth < 7)


def test_keys_that_mask_alike_are_all_recorded(tmp_path: Path) -> None:
    """Two e-mail keys masked to one placeholder collapsed into one entry of the record."""
    notify = {EMAIL: "weekly", "bob.stone@example.com": "daily"}
    _, record = _check(tmp_path, {"notify": notify}, policy=NO_SCAN)
    assert record["args"]["notify"] == {"[pii.email]": "weekly", "[pii.email]#2": "daily"}
    assert EMAIL not in json.dumps(record)
