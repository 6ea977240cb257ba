"""The JSON-ready forms of the stored values the admin API and CLI list: keys and order."""

from __future__ import annotations

from proctor.storage.contracts import PolicyVersion, ProcessBeat, StoredAgent


def test_a_stored_agent_lists_every_field_with_its_tags_as_a_list() -> None:
    agent = StoredAgent("bot", "support", "verified", "ops", ("night",), 5, None)
    assert list(agent.to_dict().items()) == [
        ("id", "bot"),
        ("role", "support"),
        ("tier", "verified"),
        ("owner", "ops"),
        ("tags", ["night"]),
        ("created_at", 5),
        ("revoked_at", None),
    ]


def test_a_policy_version_is_listed_without_its_texts_or_activation() -> None:
    version = PolicyVersion(3, "d" * 64, "tighten refunds", 1.5, "alice", (("p", "x"),), 2.5)
    assert version.to_dict() == {
        "version": 3,
        "digest": "d" * 64,
        "message": "tighten refunds",
        "created_at": 1.5,
        "created_by": "alice",
    }


def test_a_process_is_listed_under_its_id() -> None:
    beat = ProcessBeat("p1", "gateway", "host", 7, 1.0, 2.0, 3, "d", "following")
    assert list(beat.to_dict()) == [
        "id", "role", "host", "pid", "started_at", "heartbeat", "policy_version",
        "policy_digest", "state",
    ]  # fmt: skip
    assert beat.to_dict()["id"] == "p1"
