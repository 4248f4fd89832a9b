"""The random-looking names and addresses Docker and the kernel make, drawn from a seed.

On a real host ``vethca38e86``, a container's MAC from Docker 28 on, or a
network's ``br-3f0a…`` name are random.  A lesson must show the same ones every
run, so each scenario draws them from a :class:`Draws` seeded with the
scenario's seed: same seed and same inputs, same names.
"""

from __future__ import annotations

import ipaddress
import random


class Draws:
    """A seeded source of veth names, MACs and network IDs, unique within one scenario."""

    def __init__(self, seed: int, purpose: str) -> None:
        self._rng = random.Random(f"netlab:{seed}:{purpose}")
        self._used: set[str] = set()

    def _unique(self, make: object) -> str:
        for _ in range(1000):
            value = make()  # type: ignore[operator]
            if value not in self._used:
                self._used.add(value)
                return value
        raise RuntimeError("could not draw a unique value")  # pragma: no cover

    def hex(self, n: int) -> str:
        return "".join(self._rng.choice("0123456789abcdef") for _ in range(n))

    def veth_name(self) -> str:
        """``veth`` + 7 hex digits, as Docker names the host end of a container's pair."""
        return self._unique(lambda: "veth" + self.hex(7))

    def ephemeral_port(self) -> int:
        """A port from the kernel's ``ip_local_port_range`` (32768–60999): where a program that
        binds port 0 (Docker's embedded DNS server) ends up."""
        return int(self._unique(lambda: str(self._rng.randrange(32768, 61000))))

    def network_id(self) -> str:
        """A 64-hex Docker network ID (its first 12 digits name the ``br-`` bridge)."""
        return self._unique(lambda: self.hex(64))

    def random_mac(self) -> str:
        """A MAC as the kernel's ``eth_random_addr`` makes it: unicast, locally administered."""

        def make() -> str:
            octets = [self._rng.randrange(256) for _ in range(6)]
            octets[0] = (octets[0] & 0xFE) | 0x02
            return ":".join(f"{o:02x}" for o in octets)

        return self._unique(make)

    def docker_mac(self) -> str:
        """A MAC with Docker's ``02:42`` prefix and four random bytes (bridges before 28)."""
        return self._unique(
            lambda: "02:42:" + ":".join(f"{self._rng.randrange(256):02x}" for _ in range(4))
        )

    def oui_mac(self, oui: str) -> str:
        """A MAC from a vendor's OUI (``08:00:27`` is VirtualBox's virtual NICs)."""
        return self._unique(
            lambda: oui + ":" + ":".join(f"{self._rng.randrange(256):02x}" for _ in range(3))
        )


def ip_mac(ip: str) -> str:
    """Docker's MAC before 28.0: ``02:42`` then the four bytes of the IPv4 address."""
    return "02:42:" + ":".join(f"{b:02x}" for b in ipaddress.IPv4Address(ip).packed)
