"""Adversarial paste shapes (issue 10): each ``make(n)`` gives about ``n`` characters
built to make a backtracking regex, a shlex call or a list insert cost more than
linear time.  Shared by tests/test_parse_adversarial.py and benchmarks/bench_adversarial.py."""

from __future__ import annotations

from collections.abc import Callable

from netlab.netfilter.limits import MAX_CHAINS, MAX_RULES


def _rep(unit: str, n: int) -> str:
    return unit * max(1, n // len(unit))


def _at_limit(n: int, limit: int, width: int, line: Callable[[str, int], str]) -> str:
    count = max(1, min(limit - 1, n // width))  # the INPUT line counts too
    pad = "x" * max(1, n // count - width)
    return "*filter\n:INPUT ACCEPT [0:0]\n" + "".join(line(pad, i) for i in range(count)) + "COMMIT\n"


SHAPES: dict[str, Callable[[int], str]] = {
    # one long line
    "dots": lambda n: _rep(".", n),
    "dots_then_text": lambda n: "... ()" + _rep(" ", n) + "x",
    "elision_brackets": lambda n: "(" + _rep("cut ", n) + "x",
    "elision_open": lambda n: "... (" + _rep(") ", n) + "x",
    "prompt_host": lambda n: "u@" + _rep("h", n),
    "prompt_bracket_host": lambda n: "[u@" + _rep("h", n),
    "prompt_at_chain": lambda n: _rep("a@", n),
    "prompt_brackets": lambda n: _rep("a[", n) + "#",
    "prompt_words": lambda n: "$ ip addr " + _rep("a ", n),
    "user_prompt_words": lambda n: "root@host:~# iptables -S " + _rep("-v ", n),
    "prompt_lone_quote": lambda n: "$ iptables -S " + _rep("a ", n) + '"',
    "words": lambda n: _rep("word ", n),
    "marker_spaces": lambda n: "# --" + _rep(" ", n) + "x",
    "marker_dashes": lambda n: "# " + _rep("-", n) + " x",
    "spaces_then_x": lambda n: _rep(" ", n) + "x",
    "ansi_open": lambda n: _rep("\x1b[0", n),
    "quote_backslash": lambda n: "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT " + _rep('"\\', n) + "\nCOMMIT\n",
    "nested_quotes": lambda n: "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m comment --comment "
                               + _rep('"\\"', n) + " -j ACCEPT\nCOMMIT\n",
    "many_m": lambda n: "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp " + _rep("-m tcp ", n)
                        + "-j ACCEPT\nCOMMIT\n",
    "many_options": lambda n: "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp -m multiport --dports "
                              + ",".join(str(1 + i % 65535) for i in range(max(1, n // 6))) + " -j ACCEPT\nCOMMIT\n",
    "bracket_counters": lambda n: "[" + _rep("0", n) + ":0]",
    "digits_line": lambda n: _rep("9", n),
    # many lines
    "many_insert_top": lambda n: "*filter\n:INPUT ACCEPT [0:0]\n" + _rep("-I INPUT -j ACCEPT\n", n) + "COMMIT\n",
    "many_insert_2": lambda n: "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j DROP\n"
                               + _rep("-I INPUT 2 -j ACCEPT\n", n) + "COMMIT\n",
    "many_prompts": lambda n: _rep("$ ip addr\n", n),
    "many_elisions": lambda n: _rep("...\n", n),
    "many_chains": lambda n: "*filter\n" + "".join(f":C{i} - [0:0]\n" for i in range(max(1, n // 12))) + "COMMIT\n",
    "many_tables": lambda n: _rep("*filter\nCOMMIT\n", n),
    "json_nesting": lambda n: _rep("[", n // 2) + _rep("]", n // 2),
    "json_long_number": lambda n: '[{"ifname": "eth0", "mtu": ' + _rep("9", n) + "}]",
    "control_chars": lambda n: _rep("\x00\x01\x1c\x85\u2028a ", n),
    # issue 14: prose, quotes, HTML folds, pipes, loose prompts, IPv6 markers, mixed pastes
    "many_fences": lambda n: _rep("```\n", n),
    "quoted_lines": lambda n: _rep("> > 1: lo: <LOOPBACK>\n", n),
    "html_entities": lambda n: "<pre>\n" + _rep("&lt;&gt;&amp", n),
    "pipe_prompt": lambda n: "$ ip addr " + _rep("| '", n),
    "loose_prompt_words": lambda n: "/ # " + _rep("# ", n) + "ip addr",
    "zsh_prompt_words": lambda n: "\u279c " + _rep("x ", n),
    "v6_markers": lambda n: "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s " + _rep(" -s ", n) + "\nCOMMIT\n",
    "icmp6_run": lambda n: "-A INPUT -p icmp6-" + _rep("a", n),
    "many_bad_parts": lambda n: _rep("$ foo\nbar\n", n),
    "json_cut_off": lambda n: '[{"IPAM": "' + _rep("a", n),
    # as many rules / chains as netlab.netfilter.limits lets through, padded to n characters
    "rules_at_limit": lambda n: _at_limit(n, MAX_RULES, 40, lambda pad, i: f"-I INPUT -m comment --comment {pad} -j ACCEPT\n"),
    "chains_at_limit": lambda n: _at_limit(n, MAX_CHAINS, 16, lambda pad, i: f":C{pad}{i} - [0:0]\n"),
}
