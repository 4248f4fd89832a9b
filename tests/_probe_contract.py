"""The probe contract: one list of good and bad requests, and the outcome each gives.

Run against the simulator by tests/test_probe_contract.py (every machine) and against
the real kernel by tests/lab/test_probe_contract_lab.py (root): both backends must give
the same outcome for each — the same exception type and message, or the same journey
signature — except where a request is over a limit only the lab has (a real probe takes
real time): there the lab raises the same ProbeError type, saying it is the lab's limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from netlab.lab.catalogue import settle_bystanders
from netlab.scenarios import catalogue

SCENARIO = "article"
DNS_SCENARIO = "user-network-dns"  # a user network: Docker's embedded DNS answers there


@dataclass(frozen=True)
class Request:
    id: str
    kwargs: dict[str, Any]
    error: str | None = None  # the exception type a bad request raises ("ProbeError", "TypeError")
    says: str = ""  # ... and words its message contains
    lab_limit: bool = False  # good for the sim, over a limit only the lab has
    args: tuple = field(default=())
    scenario: str = SCENARIO  # the catalogue scenario it is sent in


REQUESTS = [
    Request("ping", {"kind": "ping", "src": "client", "dst": "host"}),
    Request("ping-payload-text", {"kind": "ping", "src": "web", "dst": "172.17.0.1", "payload": "abc"}),
    Request("http-published-port", {"kind": "http", "src": "client", "dst": "host", "dport": "80"}),
    Request("udp-echo-outside", {"kind": "udp", "src": "web", "dst": "internet", "payload": b"hi"}),
    Request("tcp-sport-from-address", {"kind": "tcp", "src": "192.168.56.1", "dst": "192.168.56.38",
                                       "dport": 80, "sport": 40123}),
    Request("ping-count-50", {"kind": "ping", "src": "client", "dst": "host", "count": 50}, lab_limit=True,
            says="count=50"),
    Request("ping-timeout-30", {"kind": "ping", "src": "client", "dst": "host", "timeout": 30}, lab_limit=True,
            says="timeout=30"),
    Request("udp-dport-70000", {"kind": "udp", "src": "client", "dst": "host", "dport": 70000},
            "ProbeError", "dport must be a port number from 1 to 65535"),
    Request("dport-typo", {"kind": "tcp", "src": "client", "dst": "host", "dprot": 8080},
            "TypeError", "unexpected keyword argument 'dprot'"),
    Request("broadcast", {"kind": "ping", "src": "web", "dst": "172.17.255.255"},
            "ProbeError", "is a broadcast address"),
    Request("limited-broadcast", {"kind": "udp", "src": "client", "dst": "255.255.255.255", "dport": 67},
            "ProbeError", "is a broadcast address"),
    Request("multicast", {"kind": "ping", "src": "web", "dst": "224.0.0.1"}, "ProbeError", "is multicast"),
    Request("unspecified", {"kind": "tcp", "src": "web", "dst": "0.0.0.0", "dport": 80}, "ProbeError",
            "unspecified"),
    Request("tcp-without-dport", {"kind": "tcp", "src": "client", "dst": "host"}, "ProbeError", "needs dport"),
    Request("unicode-digit-port", {"kind": "http", "src": "client", "dst": "host", "dport": "²"},
            "ProbeError", "dport must be a port number"),
    Request("unicode-digit-count", {"kind": "ping", "src": "client", "dst": "host", "count": "٣"},
            "ProbeError", "count must be a whole number"),
    Request("bool-count", {"kind": "ping", "src": "client", "dst": "host", "count": True},
            "ProbeError", "count must be a whole number"),
    Request("unknown-node", {"kind": "ping", "src": "client", "dst": "webserver"}, "ProbeError",
            "neither a node"),
    Request("unknown-source", {"kind": "ping", "src": "laptop", "dst": "host"}, "ProbeError", "neither a node"),
    Request("source-nobody-owns", {"kind": "ping", "src": "192.0.2.9", "dst": "host"}, "ProbeError", "owns"),
    Request("unknown-kind", {"kind": "nmap", "src": "client", "dst": "host"}, "ProbeError", "unknown probe kind"),
    Request("ipv6", {"kind": "http", "src": "client", "dst": "::1"}, "ProbeError", "nor an IPv4 address"),
    Request("ttl-0", {"kind": "ping", "src": "client", "dst": "host", "ttl": 0}, "ProbeError", "ttl must be"),
    Request("sport-on-ping", {"kind": "ping", "src": "client", "dst": "host", "sport": 4000}, "ProbeError",
            "sport= is for"),
    Request("payload-on-tcp", {"kind": "tcp", "src": "client", "dst": "host", "dport": 80, "payload": "x"},
            "ProbeError", "carries no payload"),
    Request("payload-number", {"kind": "udp", "src": "client", "dst": "host", "payload": 5}, "ProbeError",
            "payload must be bytes or text"),
    Request("arping-own-address", {"kind": "arping", "src": "web", "dst": "172.17.0.2"}, "ProbeError",
            "own address"),
    Request("arping-off-link", {"kind": "arping", "src": "web", "dst": "203.0.113.10"}, "ProbeError",
            "no interface on the subnet"),
    Request("negative-timeout", {"kind": "ping", "src": "client", "dst": "host", "timeout": -1}, "ProbeError",
            "timeout must be"),
    Request("dns-same-network", {"kind": "dns", "src": "web", "dst": "127.0.0.11", "name": "db"},
            scenario=DNS_SCENARIO),
    Request("dns-other-network-nxdomain", {"kind": "dns", "src": "web", "dst": "127.0.0.11", "name": "cache"},
            scenario=DNS_SCENARIO),
    Request("dns-fqdn-trailing-dot", {"kind": "dns", "src": "db", "dst": "127.0.0.11", "name": "WEB.mynet."},
            scenario=DNS_SCENARIO),
    Request("dns-without-name", {"kind": "dns", "src": "web", "dst": "127.0.0.11"}, "ProbeError",
            "needs name="),
    Request("name-on-ping", {"kind": "ping", "src": "client", "dst": "host", "name": "db"}, "ProbeError",
            "name= is for dns"),
    Request("dns-bad-name", {"kind": "dns", "src": "web", "dst": "127.0.0.11", "name": "db..x"}, "ProbeError",
            "label ''"),
    Request("dns-payload", {"kind": "dns", "src": "web", "dst": "127.0.0.11", "name": "db", "payload": "x"},
            "ProbeError", "carries no payload"),
]


def scenario(name: str = SCENARIO):  # noqa: ANN201 - a Scenario
    return catalogue.build(name)


def every_kind() -> list[tuple[str, dict[str, Any]]]:
    """One request of each kind of ``netlab.probe.KINDS`` that is answered: (scenario, kwargs)."""
    from netlab.probe import KINDS

    out = []
    for name, spec in KINDS.items():
        if spec.uses_name:  # dns: the embedded resolver of a container on a user network
            out.append((DNS_SCENARIO, {"kind": name, "src": "web", "dst": "127.0.0.11", "name": "db"}))
            continue
        kwargs: dict[str, Any] = {"kind": name, "src": "web", "dst": "172.17.0.1" if name == "arping" else "internet"}
        if spec.needs_dport:
            kwargs["dport"] = 80
        out.append((SCENARIO, kwargs))
    return out


def outcome(net: Any, req: Request) -> tuple:
    """What ``net.probe(**req.kwargs)`` gives: ("error", type, message) or ("journey", signature,
    result) — the result is what the prober made of the answer (dns: rcode and answer)."""
    kwargs = dict(req.kwargs)
    kind = kwargs.pop("kind")
    try:
        j = net.probe(kind, *req.args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the outcome under test
        return ("error", type(exc).__name__, str(exc))
    return ("journey", tuple(settle_bystanders(j.signature(), net.scenario)), j.result)
