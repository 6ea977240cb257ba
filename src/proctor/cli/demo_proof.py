"""The demo's last part: a signed checkpoint over its trail, and one decision proven offline."""

from __future__ import annotations

import json
from pathlib import Path

import click

from proctor.audit.proofs import verify_inclusion
from proctor.runtime.audit_proofs import prove
from proctor.runtime.checkpoints import Checkpointer
from proctor.runtime.note_signers import KeyFileSigner
from proctor.storage import open_audit_store


def checkpoint_and_prove(db: str) -> bool:
    """Sign a checkpoint of ``db``, print it, and check one decision's proof with the key only."""
    if "://" in db or db.startswith(":"):
        return True  # nothing on disk to checkpoint
    key = Path(db).with_name(Path(db).stem + "-audit-key.pem")
    signer = KeyFileSigner(key, "proctor/demo")
    store = open_audit_store(db)
    try:
        maker = Checkpointer(store, signer, origin="proctor/demo")
        maker.make(even_if_unchanged=True)
        maker.resign()
        decision = store.tail(50)
        chosen = next(r for r in reversed(decision) if r.get("kind") == "decision")
        document = prove(store, str(chosen["decision_id"]))
    finally:
        store.close()
    click.echo(document["checkpoint"], nl=False)
    # Offline: the proof document and the public key, no database.
    check = verify_inclusion(json.loads(json.dumps(document)), signer.verifier)
    where = f"leaf {document['leaf_index']} of {document['tree_size']}"
    if check.ok:
        click.echo(
            f"\ninclusion proof verified offline: decision {chosen['decision_id']} "
            f"({chosen['action']} -> {chosen['effect']}) is {where} under the signed checkpoint"
        )
        click.echo(f"public key: {signer.verifier}")
    else:
        click.echo(f"\ninclusion proof failed: {check.problem}")
    return check.ok
