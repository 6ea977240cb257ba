"""The gateway: ``proctor serve``, an HTTP API over the same runtime as the SDK."""

from proctor.server.app import create_app

__all__ = ["create_app"]
