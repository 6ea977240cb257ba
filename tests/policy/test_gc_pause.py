"""The collector is paused while a set is built and found again as it was."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from proctor.policy import PolicyLoadError, load_policies
from proctor.policy.gc_pause import collector_paused


@pytest.fixture(autouse=True)
def _collector_restored() -> Iterator[None]:
    was = gc.isenabled()
    yield
    (gc.enable if was else gc.disable)()


def test_overlapping_pauses_restore_the_collector_when_the_last_one_ends() -> None:
    gc.enable()
    first, second = collector_paused(), collector_paused()
    first.__enter__()
    second.__enter__()
    assert not gc.isenabled()
    first.__exit__(None, None, None)  # the other load is still building
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_a_failed_load_turns_the_collector_back_on() -> None:
    gc.enable()
    with pytest.raises(PolicyLoadError):
        load_policies(texts=["name: p\nrules: [{action: 'a:*', effect: maybe}]"])
    assert gc.isenabled()
