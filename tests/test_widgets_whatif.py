"""What-if variants equal what Docker itself builds with those options."""

from __future__ import annotations

import pytest

import netlab as nl
from netlab.errors import NetlabError
from netlab.scenarios.docker import Container
from netlab.widgets import what_if


@pytest.mark.parametrize("version", ["27", "28", "29"])
def test_variants_match_dockers_own(version: str) -> None:
    base = nl.docker_host(version)
    cases = {
        "userland_proxy_off": nl.docker_host(version, userland_proxy=False),
        "ip_forward_off": nl.docker_host(version, ip_forward=False),
        "publish_localhost": nl.docker_host(
            version, containers=[Container("web", ports=["127.0.0.1:80:80"])]),
    }
    for change, expected in cases.items():
        got = what_if(base, **{change: True})
        assert got.host.iptables == expected.host.iptables, change
        assert got.host.sysctls == expected.host.sysctls, change
        assert [(s.kind, s.bind) for s in got.host.services] == [
            (s.kind, s.bind) for s in expected.host.services], change
        assert [i.hairpin for i in got.host.interfaces] == [
            i.hairpin for i in expected.host.interfaces], change


def test_docker_user_drop_is_first_in_chain() -> None:
    s = what_if(nl.seed_host(), docker_user_drop=True)
    lines = [line for line in s.host.iptables.splitlines() if line.startswith("-A DOCKER-USER")]
    assert lines == ["-A DOCKER-USER -j DROP", "-A DOCKER-USER -j RETURN"]
    assert "DROP" not in [line for line in nl.seed_host().host.iptables.splitlines()
                          if line.startswith("-A DOCKER-USER")]  # the original is untouched


def test_text_edit_when_no_docker_profile() -> None:
    s = nl.seed_host()
    s.docker = None
    local = what_if(s, publish_localhost=True)
    assert ("-A DOCKER -d 127.0.0.1/32 ! -i docker0 -p tcp -m tcp --dport 80 -j DNAT "
            "--to-destination 172.17.0.2:80") in local.host.iptables.splitlines()
    noproxy = what_if(s, userland_proxy_off=True)
    lines = noproxy.host.iptables.splitlines()
    assert "-A OUTPUT -m addrtype --dst-type LOCAL -j DOCKER" in lines
    assert "-A DOCKER -i docker0 -j RETURN" not in lines
    assert not [x for x in noproxy.host.services if x.kind == "docker-proxy"]


def test_unknown_what_if() -> None:
    with pytest.raises(NetlabError, match="unknown what-if"):
        what_if(nl.seed_host(), firewall_off=True)
