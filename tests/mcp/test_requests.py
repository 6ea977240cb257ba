"""The proxy's own upstream ids: each answer is tied to one request, once."""

from __future__ import annotations

from proctor.mcp.requests import RequestIds


def test_ids_are_the_proxys_and_map_back_once() -> None:
    ids: RequestIds[str] = RequestIds()
    first, second = ids.reserve("a"), ids.reserve(1)
    assert first != second
    assert ids.in_flight("a")
    assert not ids.in_flight("1")  # 1 and "1" are two ids
    assert ids.send(first, "call")
    assert ids.send(second, None)
    assert ids.answer(first) == ("a", "call")
    assert ids.answer(first) is None  # a second answer is dropped
    assert not ids.in_flight("a")  # the id may be used again
    assert ids.answer(second) == (1, None)
    assert len(ids) == 0


def test_answers_to_no_request_in_flight_are_dropped() -> None:
    ids: RequestIds[str] = RequestIds()
    reserved = ids.reserve("a")
    assert ids.answer(reserved) is None  # not sent yet: the server cannot be answering it
    assert ids.send(reserved, "call")
    assert ids.answer(999) is None
    assert ids.answer(True) is None  # True == 1 in Python; never an id of ours
    assert ids.answer("1") is None
    assert ids.answer([reserved]) is None


def test_a_cancelled_request_is_forgotten() -> None:
    ids: RequestIds[str] = RequestIds()
    sent = ids.reserve("a")
    ids.send(sent, "call")
    assert ids.cancel("a") == sent  # the id the server knows it by
    assert ids.answer(sent) is None  # its late answer is dropped
    assert ids.cancel("a") is None
    waiting = ids.reserve("b")  # cancelled while it was being checked
    assert ids.cancel("b") is None  # nothing was sent: nothing to cancel upstream
    assert not ids.send(waiting, "call")  # and it is not sent


def test_own_requests_have_no_client_id() -> None:
    ids: RequestIds[str] = RequestIds()
    own = ids.own("lookup")
    assert ids.answer(own) == (None, "lookup")
    released = ids.own("lookup")
    ids.release(released)
    assert ids.answer(released) is None
