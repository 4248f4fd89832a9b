"""The error a scenario builder raises for input it cannot express."""

from __future__ import annotations

from netlab.errors import NetlabError


class ScenarioError(NetlabError, ValueError):
    """A scenario was asked for something it cannot build (an unknown Docker
    version, a malformed ``-p`` mapping, a container on a network that does not
    exist, an address outside its subnet, ...).  The message says what to change."""
