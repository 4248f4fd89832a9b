"""Property tests: any text, however mangled, gives a HostState or a ParseError — never
another exception — and parsing time grows linearly with the paste."""

from __future__ import annotations

import gc
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import netlab
from netlab import HostState, ParseError
from netlab.parse import parse_iptables_text
from tests._pastes import PASTES
from tests.conftest import SEED

PARSERS = {
    "ip_addr": netlab.parse_ip_addr,
    "ip_link": netlab.parse_ip_link,
    "ip_route": netlab.parse_ip_route,
    "brctl": netlab.parse_brctl_show,
    "bridge_link": netlab.parse_bridge_link,
    "bridge_fdb": netlab.parse_bridge_fdb,
    "ip_json": netlab.parse_ip_json,
    "conntrack": netlab.parse_conntrack,
    "docker": netlab.parse_docker_network_inspect,
    "docker_inspect": netlab.parse_docker_inspect,
    "sysctl": netlab.parse_sysctl,
    "iptables": parse_iptables_text,
    "iptables_list": netlab.parse_iptables_list,
    "ifconfig": netlab.parse_ifconfig,
    "route_n": netlab.parse_route_n,
    "sockets": netlab.parse_sockets,
    "host": netlab.parse_host,
}


def _corpus() -> dict[str, str]:
    files = sorted(PASTES.iterdir()) + sorted(SEED.iterdir())
    return {p.name: p.read_text(encoding="utf-8") for p in files if p.is_file()}  # own-host/ is a corpus of its own


CORPUS_BY_NAME = _corpus()
CORPUS = list(CORPUS_BY_NAME.values())
# each parser's own kind of paste (mutating those reaches deep into the parser)
OWN_PREFIX = {
    "ip_addr": ("ip-addr", "ip-d-link", "ip-s-link", "real-ip-addr", "real-ip-c-",
                "real-ip-d-link"),
    "ip_link": ("ip-d-link", "ip-s-link", "real-ip-d-link"),
    "ip_route": ("ip-route", "real-ip-route"), "brctl": ("brctl", "real-brctl"),
    "bridge_link": ("bridge-link", "real-bridge-d-link"),
    "bridge_fdb": ("bridge-fdb", "real-bridge-fdb"), "ip_json": ("ip-j", "bridge-j", "real-ip-j"),
    "conntrack": ("conntrack", "nf_conntrack"), "docker": ("docker",), "docker_inspect": ("docker-inspect",), "sysctl": ("sysctl",),
    "iptables": ("iptables",), "host": ("",),
    "iptables_list": ("iptables-L",), "ifconfig": ("ifconfig",), "route_n": ("route-n", "netstat-rn"),
    "sockets": ("ss-", "netstat-tlnp"),
}


def own_corpus(name: str) -> list[str]:
    texts = [t for n, t in CORPUS_BY_NAME.items() if n.startswith(OWN_PREFIX[name])]
    return texts or CORPUS
# characters pastes are made of, plus the troublemakers
ALPHABET = st.sampled_from(list(
    "abcdefxyz0123456789 :/.@<>[]{}\",=-_#*$\t\r\n\u00a0\u3000\x1b\u2026\u00b2\u0663"))


@st.composite
def mutated(draw: st.DrawFn, corpus: list[str] | None = None) -> str:
    """A real paste with random edits: cut, insert, duplicate, swap and retype."""
    text = draw(st.sampled_from(corpus or CORPUS))
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(["cut", "insert", "dup", "swap", "char"]))
        n = len(text)
        i = draw(st.integers(0, max(n - 1, 0)))
        j = draw(st.integers(i, min(n, i + 40)))
        if op == "cut":
            text = text[:i] + text[j:]
        elif op == "insert":
            text = text[:i] + draw(st.text(ALPHABET, max_size=20)) + text[i:]
        elif op == "dup":
            text = text[:j] + text[i:j] + text[j:]
        elif op == "swap":
            lines = text.split("\n")
            a = draw(st.integers(0, len(lines) - 1))
            b = draw(st.integers(0, len(lines) - 1))
            lines[a], lines[b] = lines[b], lines[a]
            text = "\n".join(lines)
        else:
            text = text[:i] + draw(ALPHABET) + text[i + 1:]
    return text


def _only_parse_errors(parser, text: str) -> None:
    try:
        result = parser(text)
    except ParseError as exc:
        assert str(exc)  # the message is printable
        return
    assert isinstance(result, HostState)
    HostState.from_json(result.to_json())  # whatever was read survives JSON


@pytest.mark.parametrize("name", sorted(PARSERS))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_own_pastes_raise_only_parse_error(name, data):
    text = data.draw(mutated(own_corpus(name)))
    _only_parse_errors(PARSERS[name], text)


@pytest.mark.parametrize("name", sorted(PARSERS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=mutated())
def test_mutated_other_pastes_raise_only_parse_error(name, text):
    _only_parse_errors(PARSERS[name], text)


@pytest.mark.parametrize("name", sorted(PARSERS))
@settings(max_examples=100, deadline=None)
@given(text=st.text(ALPHABET, max_size=300) | st.text(max_size=200))
def test_random_text_raises_only_parse_error(name, text):
    _only_parse_errors(PARSERS[name], text)


@settings(max_examples=60, deadline=None)
@given(lines=st.lists(st.sampled_from([
    "$ ip addr", "root@h:~# ip route", "...", "", "4: docker0: <UP> mtu 1500",
    "    link/ether 02:42:68:de:b6:2a brd ff:ff:ff:ff:ff:ff", "default via 10.0.2.2 dev eth0",
    "*nat", "COMMIT", "docker0 8000.024268deb62a no veth1", "    veth2", "net.ipv4.ip_forward = 1",
    "tcp 6 5 ESTABLISHED src=1.1.1.1 dst=2.2.2.2 sport=1 dport=2 src=2.2.2.2 dst=1.1.1.1 "
    "sport=2 dport=1", "[", "]", "{}", "Chain INPUT (policy ACCEPT)", "-A FORWARD -j DOCKER",
]), max_size=30))
def test_spliced_command_lines(lines):
    _only_parse_errors(netlab.parse_host, "\n".join(lines))


# ------------------------------------------------------------ linear time
def _ip_addr(n: int) -> str:
    out = []
    for i in range(n):
        out.append(f"{i + 10}: veth{i:07x}@if{i + 5}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 "
                   "qdisc noqueue master docker0 state UP group default")
        out.append(f"    link/ether 02:42:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}:01 "
                   "brd ff:ff:ff:ff:ff:ff link-netnsid 0")
        out.append(f"    inet6 fe80::{i:x}/64 scope link")
        out.append("       valid_lft forever preferred_lft forever")
    return "\n".join(out)


def _ip_route(n: int) -> str:
    return "\n".join(f"10.{i >> 8 & 255}.{i & 255}.0/24 dev veth{i}  proto kernel  scope link  "
                     f"src 10.{i >> 8 & 255}.{i & 255}.1  metric 100" for i in range(n))


def _brctl(n: int) -> str:
    return "bridge name\tbridge id\t\tSTP enabled\tinterfaces\n" + "\n".join(
        f"br{i}\t\t8000.0242{i:08x}\tno\t\tveth{i}a\n\t\t\t\t\t\tveth{i}b" for i in range(n))


def _fdb(n: int) -> str:
    return "\n".join(f"02:42:ac:{i >> 8 & 255:02x}:{i & 255:02x}:02 dev veth{i} master docker0"
                     for i in range(n))


def _conntrack(n: int) -> str:
    return "\n".join(f"tcp      6 431999 ESTABLISHED src=192.168.56.1 dst=192.168.56.38 "
                     f"sport={1024 + i} dport=80 src=172.17.0.2 dst=192.168.56.1 sport=80 "
                     f"dport={1024 + i} [ASSURED] mark=0 use=1" for i in range(n))


def _iptables(n: int) -> str:
    rules = "\n".join(f"-A DOCKER -d 172.17.{i >> 8 & 255}.{i & 255}/32 ! -i docker0 -o docker0 "
                      f"-p tcp -m tcp --dport {i % 60000 + 1} -j ACCEPT" for i in range(n))
    return f"*filter\n:INPUT ACCEPT [0:0]\n:DOCKER - [0:0]\n{rules}\nCOMMIT\n"


def _json(n: int) -> str:
    import json

    return json.dumps([{"ifindex": i + 1, "ifname": f"veth{i}", "flags": ["UP"], "mtu": 1500,
                        "operstate": "UP", "link_type": "ether", "link_index": i + 5000,
                        "link_netnsid": 0, "address": "02:42:ac:11:00:02",
                        "addr_info": [{"family": "inet", "local": "10.0.0.1", "prefixlen": 24}]}
                       for i in range(n)])


def _bridge_link(n: int) -> str:
    return "\n".join(f"{i + 10}: veth{i:07x}@if{i + 5}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 "
                     "master docker0 state forwarding priority 32 cost 2" for i in range(n))


def _sysctl(n: int) -> str:
    return "\n".join(f"net.ipv4.conf.veth{i}.rp_filter = {i % 3}" for i in range(n))


def _docker(n: int) -> str:
    import json

    return json.dumps([{"Name": f"net{i}", "Id": f"{i:064x}", "Driver": "bridge",
                        "IPAM": {"Config": [{"Subnet": f"10.{i >> 8 & 255}.{i & 255}.0/24",
                                             "Gateway": f"10.{i >> 8 & 255}.{i & 255}.1"}]},
                        "Containers": {f"{i:064x}": {"Name": f"c{i}"}}, "Options": {}}
                       for i in range(n)])


def _iptables_list(n: int) -> str:
    row = ("{i}     {p}K  {b}M ACCEPT     tcp  --  !docker0 docker0  0.0.0.0/0            "
           "172.17.{x}.{y}           tcp dpt:{port} /* web {i} */")
    return ("Chain DOCKER (1 references)\n"
            "num   pkts bytes target     prot opt in     out     source               destination\n"
            + "\n".join(row.format(i=i + 1, p=i % 900, b=i % 90, x=i >> 8 & 255, y=i & 255,
                                   port=i % 60000 + 1) for i in range(n)))


def _ifconfig(n: int) -> str:
    return "\n".join(f"veth{i:07x}: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 1500\n"
                     f"        inet 10.{i >> 8 & 255}.{i & 255}.1  netmask 255.255.255.0  "
                     f"broadcast 10.{i >> 8 & 255}.{i & 255}.255\n"
                     f"        ether 02:42:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}:01  "
                     "txqueuelen 0  (Ethernet)\n" for i in range(n))


def _route_n(n: int) -> str:
    return ("Kernel IP routing table\nDestination     Gateway         Genmask         Flags Metric "
            "Ref    Use Iface\n" + "\n".join(
                f"10.{i >> 8 & 255}.{i & 255}.0     0.0.0.0         255.255.255.0   U     0      0"
                f"        0 veth{i}" for i in range(n)))


def _sockets(n: int) -> str:
    return ("State  Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n" + "\n".join(
        f"LISTEN 0      4096         0.0.0.0:{i % 60000 + 1}       0.0.0.0:*     "
        f'users:(("docker-proxy",pid={i + 100},fd=4))' for i in range(n)))


def _host(n: int) -> str:
    return f"$ ip addr\n{_ip_addr(n)}\n$ ip route\n{_ip_route(n)}\n$ brctl show\n{_brctl(n)}\n"


GENERATORS = {
    "ip_addr": (netlab.parse_ip_addr, _ip_addr),
    "ip_route": (netlab.parse_ip_route, _ip_route),
    "brctl": (netlab.parse_brctl_show, _brctl),
    "bridge_fdb": (netlab.parse_bridge_fdb, _fdb),
    "conntrack": (netlab.parse_conntrack, _conntrack),
    "iptables": (lambda t: parse_iptables_text(t, validate=False), _iptables),
    "ip_json": (netlab.parse_ip_json, _json),
    "bridge_link": (netlab.parse_bridge_link, _bridge_link),
    "sysctl": (netlab.parse_sysctl, _sysctl),
    "docker": (netlab.parse_docker_network_inspect, _docker),
    "iptables_list": (netlab.parse_iptables_list, _iptables_list),
    "ifconfig": (netlab.parse_ifconfig, _ifconfig),
    "route_n": (netlab.parse_route_n, _route_n),
    "sockets": (netlab.parse_sockets, _sockets),
    "host": (netlab.parse_host, _host),
}


def _cpu_times(fn, texts: list[str], rounds: int, *, collect: bool = True) -> list[float]:
    """Fastest CPU time (this process only: other jobs on a shared machine do not count)
    of each text over interleaved rounds, with the garbage collector paused (and run first
    unless ``collect=False``: late in a full run a collection of the test process's heap
    costs ~0.5 s, more than the timing itself)."""
    best = [float("inf")] * len(texts)
    if collect:
        gc.collect()
    gc.disable()
    try:
        for _ in range(rounds):
            for i, text in enumerate(texts):
                t0 = time.process_time()
                fn(text)
                best[i] = min(best[i], time.process_time() - t0)
    finally:
        gc.enable()
    return best


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_parsing_time_is_linear(name):
    parser, make = GENERATORS[name]
    # sizes past the CPU caches' sweet spot, so the per-line cost is settled
    small, large = make(1000), make(5000)
    parser(small)  # warm up
    t_small, t_large = _cpu_times(parser, [small, large], rounds=3)
    # 5x the input: linear is ~5x; quadratic would be ~25x
    assert t_large < 10 * max(t_small, 1e-4), (name, t_small, t_large)
