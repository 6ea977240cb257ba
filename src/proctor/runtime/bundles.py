"""``BundleFollower``: decide with a signed policy bundle read from a file or a URL.

``proctor serve --bundle URL_OR_FILE --bundle-key PUBLIC.pem`` polls the
bundle every ``poll_seconds``: a URL with ``If-None-Match`` (a ``304`` costs
nothing), a file when its size or modification time changed. A new bundle is
verified (``policy.bundle``: signature, digest) and compiled before it
replaces the running set, each switch a ``policy_activated`` record. An
unsigned, tampered or uncompilable bundle, or one that cannot be fetched, is
refused with a clear error (logged, and a ``policy_activated`` record of
effect ``deny`` with its code) and the last good set keeps deciding. Until
the first good bundle every call is denied (no policy).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from proctor.audit.errors import AuditError
from proctor.errors import ProctorError
from proctor.policy.bundle import read_bundle
from proctor.runtime.engine import Runtime
from proctor.runtime.policy_versions import compile_stored
from proctor.storage.errors import StorageError

log = logging.getLogger("proctor.bundles")

BUNDLE_UNREACHABLE = "bundle_unreachable"
BUNDLE_KEY_INVALID = "bundle_key_invalid"

Fetch = Callable[[], bytes | None]  # the bundle's bytes, or None when unchanged


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    """The Ed25519 public key (PEM) bundles must be signed with."""
    try:
        key = load_pem_public_key(Path(path).read_bytes())
    except (OSError, ValueError) as exc:
        raise ProctorError(
            f"cannot read the bundle key `{path}`: {exc}", code=BUNDLE_KEY_INVALID
        ) from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ProctorError(f"the bundle key `{path}` is not Ed25519", code=BUNDLE_KEY_INVALID)
    return key


def file_fetch(path: Path) -> Fetch:
    seen: list[tuple[int, int]] = []

    def fetch() -> bytes | None:
        try:
            stat = path.stat()
            stamp = (stat.st_size, stat.st_mtime_ns)
            if seen and seen[-1] == stamp:
                return None
            data = path.read_bytes()
        except OSError as exc:
            raise ProctorError(
                f"cannot read the bundle `{path}`: {exc.strerror or exc}", code=BUNDLE_UNREACHABLE
            ) from exc
        seen[:] = [stamp]
        return data

    return fetch


def http_fetch(url: str, *, timeout: float = 10.0) -> Fetch:
    """GET with ``If-None-Match``: a ``304`` is None (unchanged)."""
    etag: list[str] = []

    def fetch() -> bytes | None:
        import httpx  # only with a bundle URL

        headers = {"If-None-Match": etag[0]} if etag else {}
        try:
            response = httpx.get(url, headers=headers, timeout=timeout, follow_redirects=False)
        except httpx.HTTPError as exc:
            raise ProctorError(
                f"cannot fetch the bundle from `{url}`: {exc}", code=BUNDLE_UNREACHABLE
            ) from exc
        if response.status_code == 304:
            return None
        if response.status_code != 200:
            raise ProctorError(
                f"the bundle URL `{url}` answered {response.status_code}", code=BUNDLE_UNREACHABLE
            )
        etag[:] = [response.headers["etag"]] if "etag" in response.headers else []
        return response.content

    return fetch


class BundleFollower:
    def __init__(
        self,
        runtime: Runtime,
        location: str,
        key: Ed25519PublicKey,
        *,
        poll_seconds: float = 5.0,
        fetch: Fetch | None = None,
    ) -> None:
        self.runtime = runtime
        self.location = location
        self._key = key
        self._poll = poll_seconds
        remote = location.startswith(("http://", "https://"))
        self._fetch = fetch or (http_fetch(location) if remote else file_fetch(Path(location)))
        self.error: ProctorError | None = None  # why the last bundle was refused, if it was
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll_once(self) -> None:
        try:
            data = self._fetch()
            if data is None:
                return
            digest, sources = read_bundle(data, self._key)
            compiled = compile_stored(sources, self.runtime.policies.timezone)
        except ProctorError as exc:
            self.error = exc
            log.error("bundle `%s` refused (%s): %s", self.location, exc.code, exc.message)
            self._note("deny", f"bundle refused: {exc.message}", None, exc.code)
            return
        self.error = None
        if digest == self.runtime.policies.digest:
            return
        self.runtime.replace_policies(compiled)
        self._note("allow", f"bundle `{self.location}` active", digest, None)

    def _note(self, effect: str, reason: str, digest: str | None, code: str | None) -> None:
        extra = {"bundle": self.location, "digest": digest, "error": code}
        with contextlib.suppress(StorageError, AuditError):  # the switch stands unrecorded
            self.runtime.record(
                "policy_activated", action="policy:activate", effect=effect, reason=reason,
                agent=None, user=None, extra={k: v for k, v in extra.items() if v is not None},
            )  # fmt: skip

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="proctor-bundle", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._poll):
            try:
                self.poll_once()
            except Exception:  # one bad round must not stop the polling
                log.exception("a round of polling the bundle failed")

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)


def follow_bundle(
    runtime: Runtime, location: str, key_path: str | Path, *, poll_seconds: float = 5.0
) -> BundleFollower:
    """``runtime`` deciding with the bundle at ``location`` (no policy until a good one)."""
    follower = BundleFollower(
        runtime, location, load_public_key(key_path), poll_seconds=poll_seconds
    )
    runtime.replace_policies(type(runtime.policies).empty(runtime.policies.timezone))
    follower.poll_once()
    follower.start()
    runtime.close_with(follower.close)
    return follower
