"""The terminal interface: the `syslab` command (app and *_cmds), views, progress, doctor,
the settings reference, and safe printing of candidate text (terminal)."""

from syslab.cli.shell import app, main

__all__ = ["app", "main"]
