"""The name every personal-data finding carries as its scanner, whichever detector found it."""

NAME = "pii"
