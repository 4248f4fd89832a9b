"""A Linux bridge: a switch inside the host.  It learns on which port each source
MAC lives (the FDB), forwards known unicast to that port, floods broadcast and
unknown unicast to every other port, forgets entries after ``ageing_time``
seconds of sim time, and sends a frame back out of the port it came in on only
when that port is in hairpin mode (lesson 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field

AGEING_TIME = 300.0  # seconds, the kernel's default (brctl setageing)


@dataclass
class FdbEntry:
    mac: str
    port: str  # a port name, or the bridge's own name for its local MAC
    updated: float
    local: bool = False  # permanent entry for the bridge's / a port's own MAC


@dataclass
class Bridge:
    name: str
    mac: str
    ports: list[str] = field(default_factory=list)
    hairpin: set[str] = field(default_factory=set)
    ageing_time: float = AGEING_TIME
    fdb: dict[str, FdbEntry] = field(default_factory=dict)

    def add_port(self, port: str, port_mac: str | None, hairpin: bool = False) -> None:
        """Enslave ``port``.  The kernel keeps the newest port first in its list, so a
        flooded frame leaves by the most recently attached port first."""
        self.ports.insert(0, port)
        if hairpin:
            self.hairpin.add(port)
        if port_mac:
            # ports' own MACs are permanent "local" entries (bridge fdb shows them "permanent")
            self.fdb[port_mac] = FdbEntry(port_mac, port, 0.0, local=True)

    def set_own_mac(self) -> None:
        self.fdb[self.mac] = FdbEntry(self.mac, self.name, 0.0, local=True)

    def learn(self, mac: str, port: str, now: float) -> str | None:
        """Learn that ``mac`` lives behind ``port``.  Returns ``"learnt"``,
        ``"moved"`` or None (already known there: only refreshed)."""
        if int(mac[:2], 16) & 1:
            return None  # never learn group addresses
        entry = self.fdb.get(mac)
        if entry is not None and entry.local:
            return None
        if entry is None or now - entry.updated > self.ageing_time:
            self.fdb[mac] = FdbEntry(mac, port, now)
            return "learnt"
        if entry.port != port:
            entry.port, entry.updated = port, now
            return "moved"
        entry.updated = now
        return None

    def lookup(self, mac: str, now: float) -> FdbEntry | None:
        """Where ``mac`` lives, or None (unknown or aged out: the frame is flooded)."""
        entry = self.fdb.get(mac)
        if entry is None:
            return None
        if not entry.local and now - entry.updated > self.ageing_time:
            del self.fdb[mac]
            return None
        return entry

    def flood_ports(self, ingress: str | None) -> list[str]:
        """Ports a flooded frame leaves by: all but the ingress port (unless hairpin)."""
        return [p for p in self.ports if p != ingress or p in self.hairpin]

    def age(self, now: float) -> list[str]:
        """Drop learnt entries older than the ageing time; returns the MACs forgotten."""
        old = [m for m, e in self.fdb.items() if not e.local and now - e.updated > self.ageing_time]
        for m in old:
            del self.fdb[m]
        return old
