"""scapy's MAC-vendor table is freed when netlab imports scapy, and comes back on first use."""

from __future__ import annotations

import pytest

pytest.importorskip("scapy")


def test_the_vendor_table_waits_until_asked_and_then_answers_as_before() -> None:
    import scapy.data
    from scapy.config import conf

    from netlab.extras import _LazyManuf, need

    need("scapy.layers.l2", "a test")
    assert isinstance(scapy.data.MANUFDB, _LazyManuf)  # the 52,000 entries are not held
    assert conf.manufdb._get_short_manuf("00:00:0c:12:34:56") == "Cisco"  # scapy asks: loaded
    assert not isinstance(scapy.data.MANUFDB, _LazyManuf) and len(conf.manufdb) > 10_000
    need("scapy.layers.l2", "a test")  # freed again; every way of reading it still answers
    assert conf.manufdb and "00:00:0C" in conf.manufdb and conf.manufdb["00:00:0C"][0] == "Cisco"
