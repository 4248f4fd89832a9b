"""``nft -j list ruleset`` JSON, read by writing each object back as nft text.

libnftables-json(5) describes the schema: a list of ``{"table": …}``,
``{"chain": …}``, ``{"set"|"map": …}`` and ``{"rule": {"expr": [...]}}`` objects.
Each rule's expressions are rendered the way ``nft list ruleset`` prints them,
then read by the one text reader, so both forms give the same :class:`NftRuleset`
(with the same rule texts in a trace).  Expressions netlab has no words for are
rendered as their JSON key (``xt match recent``, ``synproxy``…) and stay uncertain.
"""

from __future__ import annotations

import json
from typing import Any, TypedDict

from netlab.errors import ParseError

COMMAND = "nft -j list ruleset"
_STD = {"filter": {-300: "raw", -150: "mangle", -100: "dstnat", 0: "filter", 50: "security", 100: "srcnat"},
        "bridge": {-300: "dstnat", -200: "filter", 100: "out", 300: "srcnat"}}


def _q(s: Any) -> str:
    return '"' + str(s).replace('"', '\\"') + '"'


def _val(v: Any, quote: bool = False) -> str:
    """A right-hand value (string, number, prefix, range, set, concat)."""
    if isinstance(v, bool):
        return "exists" if v else "missing"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, str):
        if v.startswith("@"):
            return v
        return _q(v) if quote else v
    if isinstance(v, list):  # flag list
        return ",".join(_val(x) for x in v)
    if isinstance(v, dict):
        if "prefix" in v:
            return f"{v['prefix']['addr']}/{v['prefix']['len']}"
        if "range" in v:
            a, b = v["range"]
            return f"{_val(a, quote)}-{_val(b, quote)}"
        if "set" in v:
            items = v["set"] if isinstance(v["set"], list) else [v["set"]]
            return "{ " + ", ".join(_elem(x, quote) for x in items) + " }"
        if "concat" in v:
            return " . ".join(_val(x, quote) for x in v["concat"])
        if "elem" in v:
            return _val(v["elem"].get("val"), quote)
        return _expr(v)
    return str(v)


def _elem(x: Any, quote: bool) -> str:
    if isinstance(x, list) and len(x) == 2:  # map element [key, value]
        k, val = x
        return f"{_val(k, quote)} : {_verdict(val) or _val(val)}"
    return _val(x, quote)


def _verdict(v: Any) -> str | None:
    if isinstance(v, dict):
        for k in ("accept", "drop", "continue", "return"):
            if k in v:
                return k
        for k in ("jump", "goto"):
            if k in v:
                return f"{k} {v[k]['target']}"
    return None


def _expr(e: Any) -> str:
    """A left-hand expression: meta, payload, ct, fib, numgen, concat, binop."""
    if not isinstance(e, dict):
        return _val(e)
    if "meta" in e:
        key = e["meta"]["key"]
        return key if key in ("iifname", "oifname", "iif", "oif", "mark", "iiftype", "oiftype",
                              "skuid", "skgid", "pkttype") else f"meta {key}"
    if "payload" in e:
        p = e["payload"]
        if "protocol" in p:
            return f"{p['protocol']} {p['field']}"
        return f"@{p.get('base', 'nh')},{p.get('offset', 0)},{p.get('len', 0)}"
    if "ct" in e:
        c = e["ct"]
        parts = ["ct"]
        if c.get("dir"):
            parts.append(c["dir"])
        if c.get("family"):
            parts.append(c["family"])
        parts.append(c["key"])
        return " ".join(parts)
    if "fib" in e:
        f = e["fib"]
        return f"fib {' . '.join(f.get('flags', []))} {f['result']}"
    if "numgen" in e:
        n = e["numgen"]
        s = f"numgen {n.get('mode', 'random')} mod {n['mod']}"
        return s + (f" offset {n['offset']}" if n.get("offset") else "")
    if "concat" in e:
        return " . ".join(_expr(x) for x in e["concat"])
    for op in ("&", "|", "^", "<<", ">>"):
        if op in e:
            a, b = e[op]
            right = "(" + " | ".join(_val(x) for x in b) + ")" if isinstance(b, list) else _val(b)
            return f"{_expr(a)} {op} {right}"
    if "map" in e:
        m = e["map"]
        return f"{_expr(m['key'])} map {_val(m['data'])}"
    key = next(iter(e), "?")
    return f"{key}"


def _nat(kind: str, s: Any) -> str:
    s = s or {}
    out = [kind]
    if s.get("family") and kind in ("dnat", "snat"):
        out.append(s["family"])
    addr, port = s.get("addr"), s.get("port")
    if addr is not None or port is not None:
        out.append("to")
        if isinstance(addr, dict) and "map" in addr:
            out.append(_expr(addr))
        else:
            a = _val(addr) if addr is not None else ""
            if ":" in a and port is not None:
                a = f"[{a}]"
            out.append(a + (f":{_val(port)}" if port is not None else ""))
    flags = s.get("flags")
    if flags:
        out.append(",".join(flags if isinstance(flags, list) else [flags]))
    return " ".join(out)


def _stmt(e: dict) -> str:
    key = next(iter(e))
    v = e[key]
    if key == "match":
        op = v.get("op", "==")
        left = _expr(v["left"])
        quote = isinstance(v["left"], dict) and "meta" in v["left"] and v["left"]["meta"]["key"] in (
            "iifname", "oifname", "iif", "oif")
        right = _val(v["right"], quote)
        binop = isinstance(v["left"], dict) and any(k in v["left"] for k in ("&", "|", "^"))
        if binop and op == "in":  # a flag test: (left & mask) != 0
            return f"{left} != 0"
        if op in ("==", "in") and not binop:
            return f"{left} {right}"
        return f"{left} {op} {right}"
    if key in ("accept", "drop", "continue", "return"):
        return key
    if key in ("jump", "goto"):
        return f"{key} {v['target']}"
    if key == "counter":
        return "counter" if not isinstance(v, dict) else f"counter packets {v.get('packets', 0)} bytes {v.get('bytes', 0)}"
    if key == "reject":
        if not v:
            return "reject"
        t = v.get("type", "icmp")
        return f"reject with {t}" + (f" {v['expr']}" if v.get("expr") else "")
    if key == "vmap":
        return f"{_expr(v['key'])} vmap {_val(v['data'])}"
    if key in ("dnat", "snat", "masquerade", "redirect"):
        return _nat(key, v)
    if key == "log":
        out = ["log"]
        for opt in ("prefix", "level", "group", "snaplen", "queue-threshold"):
            if v and opt in v:
                out.append(f"{opt} {_q(v[opt]) if opt == 'prefix' else v[opt]}")
        return " ".join(out)
    if key == "notrack":
        return "notrack"
    if key == "mangle":
        return f"{_expr(v['key'])} set {_expr(v['value']) if isinstance(v['value'], dict) else _val(v['value'])}"
    if key == "queue":
        return "queue"
    if key == "xt":
        return f"xt {v.get('type', 'match')} {v.get('name', '?')}"
    if key == "limit":
        return f"limit rate {v.get('rate', '?')}/{v.get('per', 'second')}"
    return key  # kept, and uncertain


def _settype(t: Any) -> str:
    return " . ".join(t) if isinstance(t, list) else str(t)


class _TableText(TypedDict):
    """One table's text pieces while :func:`json_to_text` collects them."""

    sets: list[str]
    chains: dict[str, list[str]]
    chain_order: list[str]


def json_to_text(data: Any) -> str:
    """The ``nft list ruleset`` text of ``nft -j`` output (a dict or its JSON text)."""
    objs = data.get("nftables") if isinstance(data, dict) else data
    if not isinstance(objs, list):
        raise ValueError('the JSON has no "nftables" list')
    tables: dict[tuple[str, str], _TableText] = {}
    order: list[tuple[str, str]] = []

    def tab(o: dict) -> _TableText:
        key = (o["family"], o["table"] if "table" in o else o["name"])
        if key not in tables:
            tables[key] = {"sets": [], "chains": {}, "chain_order": []}
            order.append(key)
        return tables[key]

    for obj in objs:
        if not isinstance(obj, dict) or len(obj) != 1:
            raise ValueError(f"each entry of the nftables list is one object, not {str(obj)[:60]!r}")
        kind, o = next(iter(obj.items()))
        if kind == "metainfo":
            continue
        if kind == "table":
            tab(o)
        elif kind in ("set", "map"):
            lines = [f"\t{kind} {o['name']} {{"]
            stype = _settype(o["type"])
            if kind == "map":
                stype += f" : {_settype(o['map'])}"
            lines.append(f"\t\ttype {stype}")
            if o.get("flags"):
                fl = o["flags"] if isinstance(o["flags"], list) else [o["flags"]]
                lines.append(f"\t\tflags {','.join(fl)}")
            if o.get("elem"):
                quote = "ifname" in stype.split(":")[0]
                lines.append("\t\telements = { " + ", ".join(_elem(x, quote) for x in o["elem"]) + " }")
            lines.append("\t}")
            tab(o)["sets"].append("\n".join(lines))
        elif kind == "chain":
            t = tab(o)
            head = []
            if "hook" in o:
                fam = "bridge" if o["family"] == "bridge" else "filter"
                prio = _STD[fam].get(o.get("prio", 0), str(o.get("prio", 0)))
                dev = f" device {_q(o['dev'])}" if o.get("dev") else ""
                head.append(f"\t\ttype {o['type']} hook {o['hook']}{dev} priority {prio}; "
                            f"policy {o.get('policy', 'accept')};")
            t["chains"].setdefault(o["name"], head)
            t["chain_order"].append(o["name"])
        elif kind == "rule":
            t = tab(o)
            words = " ".join(_stmt(e) for e in o.get("expr", []))
            if o.get("comment"):
                words += f" comment {_q(o['comment'])}"
            t["chains"].setdefault(o["chain"], []).append("\t\t" + words)
        else:  # flowtables, counters, quotas…: not modelled
            continue
    out = []
    for fam, name in order:
        t = tables[(fam, name)]
        blocks = list(t["sets"])
        for c in t["chain_order"]:
            blocks.append(f"\tchain {c} {{\n" + "\n".join(t["chains"][c]) + "\n\t}")
        out.append(f"table {fam} {name} {{\n" + "\n\n".join(blocks) + "\n}")
    return "\n".join(out) + "\n"


def parse_nft_json(text: str | Any) -> Any:
    """Read ``nft -j list ruleset`` output into an :class:`NftRuleset`."""
    from netlab.netfilter.nft_parser import _parse_text

    try:
        data = json.loads(text) if isinstance(text, str) else text
    except json.JSONDecodeError as exc:
        lines = text.splitlines()
        raise ParseError(f"not valid JSON ({exc.msg})", command=COMMAND, lineno=exc.lineno,
                         line=lines[exc.lineno - 1] if 0 < exc.lineno <= len(lines) else "",
                         hint="paste the whole output of `sudo nft -j list ruleset`") from None
    try:
        rendered = json_to_text(data)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ParseError(f"not the JSON `nft -j list ruleset` prints ({exc})", command=COMMAND, lineno=1,
                         line=str(text)[:160], hint='it looks like {"nftables": [{"metainfo": …}, …]}') from None
    try:
        rs = _parse_text(rendered)
    except ParseError as exc:
        raise ParseError(exc.reason, command=COMMAND, lineno=None,
                         hint=f"(in the rule rendered as {exc.line!r}) " + (exc.hint or "")) from None
    rs.source = "json"
    return rs
