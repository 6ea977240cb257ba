"""Signing keys: rotation with overlap, the public JWKS, the 0600 key file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from proctor.clock import ManualClock
from proctor.identity.errors import IdentityError
from proctor.identity.keys import KeyRing
from proctor.storage import key_file
from tests.identity import factory as f


def test_rotation_keeps_old_keys_verifying_for_the_overlap() -> None:
    ring = KeyRing.generate(0, overlap=100)
    old = ring.active.kid
    rotated = ring.rotate(50)
    assert rotated.active.kid != old
    assert set(rotated.verifying(120)) == {old, rotated.active.kid}
    assert set(rotated.verifying(151)) == {rotated.active.kid}
    assert old not in {key.kid for key in rotated.rotate(200).keys}


def test_jwks_has_no_private_parts() -> None:
    ring = KeyRing.generate(0).with_dev_key(0)
    document = ring.jwks(0)
    assert [set(key) for key in document["keys"]] == [{"kty", "crv", "x", "kid", "alg", "use"}]
    assert "PRIVATE" not in repr(ring)
    assert "PRIVATE" not in repr(ring.active)


def test_key_file_is_created_0600_and_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    ring = key_file.load_or_create(path, 0)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = key_file.load_or_create(path, 10)
    assert again.active.kid == ring.active.kid
    path.chmod(0o644)
    with pytest.raises(IdentityError) as caught:
        key_file.load_or_create(path, 10)
    assert caught.value.code == "key_file_insecure"


def test_tokens_signed_before_a_rotation_still_verify() -> None:
    clock = ManualClock(f.NOW)
    rt = f.runtime(clock)
    token = f.exchange(rt, f.user_token(), "sales-assistant")
    assert rt.identity is not None
    rt.identity.rotate_keys()
    fresh = f.exchange(rt, f.user_token(), "sales-assistant")
    assert rt.check("read:orders", token=token).allowed
    assert rt.check("read:orders", token=fresh).allowed
    assert len(rt.identity.jwks()["keys"]) == 2


def test_a_stale_view_never_writes_back_its_old_copy(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    gateway, cli = key_file.KeyFile(path), key_file.KeyFile(path)
    first = gateway.ring(0).active.kid
    rotated = cli.update(lambda ring: ring.rotate(10), 10)
    with_dev = gateway.update(lambda ring: ring.with_dev_key(20), 20)  # read before the rotation
    assert with_dev.active.kid == rotated.active.kid
    assert [key.kid for key in with_dev.keys] == [rotated.active.kid, first]
    assert cli.ring(30).dev_key is not None  # the other view reads the changed file
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [".keys.json.lock", "keys.json"]
