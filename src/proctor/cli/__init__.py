"""The `proctor` command line."""
