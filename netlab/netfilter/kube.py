"""A kube-proxy (iptables mode) rule set of any size, for benchmarks and lessons.

``kube_proxy_rules(services=5000)`` writes what ``iptables-save`` shows on a
Kubernetes node: KUBE-SERVICES with one rule per service port, a KUBE-SVC-*
chain per service that picks an endpoint with ``-m statistic --mode random``,
and a KUBE-SEP-* chain per endpoint that marks for masquerade and DNATs to the
pod.  5,000 services give about 52,000 rules in 71,000 lines.
"""

from __future__ import annotations

import base64
import hashlib

#: endpoints per service, cycled (mean 2.8, so 5,000 services make ~52,000 rules)
ENDPOINT_PATTERN = (2, 3, 3, 3, 3)


def _chain_id(prefix: str, text: str) -> str:
    digest = hashlib.sha256(text.encode()).digest()
    return prefix + base64.b32encode(digest).decode()[:16]


def service_vip(i: int) -> str:
    """The cluster IP of service ``i`` (10.96.0.0/12)."""
    n = i + 10
    return f"10.{96 + (n >> 16)}.{(n >> 8) & 255}.{n & 255}"


def pod_ip(i: int) -> str:
    n = i + 2
    return f"10.{244 + (n >> 16)}.{(n >> 8) & 255}.{n & 255}"


def kube_proxy_rules(services: int = 5000, cluster_cidr: str = "10.244.0.0/16") -> str:
    """iptables-save text of a kube-proxy node with ``services`` services."""
    filt = [
        "*filter",
        ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
        ":KUBE-EXTERNAL-SERVICES - [0:0]", ":KUBE-FIREWALL - [0:0]", ":KUBE-FORWARD - [0:0]",
        ":KUBE-KUBELET-CANARY - [0:0]", ":KUBE-NODEPORTS - [0:0]", ":KUBE-PROXY-CANARY - [0:0]",
        ":KUBE-PROXY-FIREWALL - [0:0]", ":KUBE-SERVICES - [0:0]",
        '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
        '-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS',
        '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
        "-A INPUT -j KUBE-FIREWALL",
        '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
        '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
        '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
        '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
        '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        "-A OUTPUT -j KUBE-FIREWALL",
        '-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
        "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP",
        '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
        '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
        "COMMIT",
    ]
    decl = [
        "*nat",
        ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
        ":POSTROUTING ACCEPT [0:0]", ":KUBE-KUBELET-CANARY - [0:0]", ":KUBE-MARK-MASQ - [0:0]",
        ":KUBE-NODEPORTS - [0:0]", ":KUBE-POSTROUTING - [0:0]", ":KUBE-PROXY-CANARY - [0:0]",
        ":KUBE-SERVICES - [0:0]",
    ]
    base = [
        '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
        "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000",
        "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
        "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0",
        '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
    ]
    svc_rules: list[str] = []
    chain_rules: list[str] = []
    pod = 0
    for i in range(services):
        ns, name = f"ns{i % 97}", f"svc-{i}"
        port_name = "http" if i % 3 else "grpc"
        port, target_port = (80 if i % 3 else 9090), 8080 + (i % 7)
        proto = "udp" if i % 11 == 0 else "tcp"
        key = f"{ns}/{name}:{port_name}"
        vip = service_vip(i)
        svc = _chain_id("KUBE-SVC-", key)
        decl.append(f":{svc} - [0:0]")
        svc_rules.append(f'-A KUBE-SERVICES -d {vip}/32 -p {proto} -m comment --comment "{key} cluster IP" '
                         f"-m {proto} --dport {port} -j {svc}")
        chain_rules.append(f'-A {svc} ! -s {cluster_cidr} -d {vip}/32 -p {proto} -m comment --comment '
                           f'"{key} cluster IP" -m {proto} --dport {port} -j KUBE-MARK-MASQ')
        k = ENDPOINT_PATTERN[i % len(ENDPOINT_PATTERN)]
        seps = []
        for _ in range(k):
            ip = pod_ip(pod)
            pod += 1
            sep = _chain_id("KUBE-SEP-", f"{key}/{ip}")
            decl.append(f":{sep} - [0:0]")
            seps.append((sep, ip))
        for e, (sep, ip) in enumerate(seps):
            left = k - e
            stat = "" if left == 1 else f"-m statistic --mode random --probability {1 / left:.11f} "
            chain_rules.append(f'-A {svc} -m comment --comment "{key} -> {ip}:{target_port}" {stat}-j {sep}')
        for sep, ip in seps:
            chain_rules.append(f'-A {sep} -s {ip}/32 -m comment --comment "{key}" -j KUBE-MARK-MASQ')
            chain_rules.append(f'-A {sep} -p {proto} -m comment --comment "{key}" -m {proto} '
                               f"-j DNAT --to-destination {ip}:{target_port}")
    svc_rules.append('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must '
                     'be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS')
    nat = decl + base + svc_rules + chain_rules + ["COMMIT"]
    return "\n".join(filt + nat) + "\n"


def _nft_id(text: str) -> str:
    return base64.b32encode(hashlib.sha256(text.encode()).digest()).decode()[:8]


def kube_proxy_nft_rules(services: int = 5000, cluster_cidr: str = "10.244.0.0/16",
                         service_cidr: str = "10.96.0.0/12") -> str:
    """``nft list table ip kube-proxy`` of a node running kube-proxy in nftables mode.

    The shape of kubernetes ``pkg/proxy/nftables/proxier.go`` (v1.31): the ``service-ips``
    verdict map keyed ``ip daddr . meta l4proto . th dport`` sends each service port to
    its ``service-…`` chain, which marks for masquerade and picks an endpoint with
    ``numgen random mod N vmap``; each ``endpoint-…`` chain DNATs to its pod."""
    svc_chains: list[str] = []
    map_elems: list[str] = []
    ips: list[str] = []
    for i in range(services):
        vip = service_vip(i)
        port = 80 if i % 3 else 9090
        name = f"ns{i % 50}/svc{i}/tcp/p{port}"
        svc = f"service-{_nft_id(name)}-{name}"
        ips.append(vip)
        map_elems.append(f"{vip} . tcp . {port} : goto {svc}")
        eps = []
        for k in range(ENDPOINT_PATTERN[i % len(ENDPOINT_PATTERN)]):
            pod = pod_ip(i * 3 + k)
            ep = f"endpoint-{_nft_id(name + pod)}-{name}__{pod}/8080"
            eps.append(ep)
            svc_chains.append(f"\tchain {ep} {{\n\t\tip saddr {pod} jump mark-for-masquerade\n"
                              f"\t\tmeta l4proto tcp dnat to {pod}:8080\n\t}}")
        picks = ", ".join(f"{k} : goto {ep}" for k, ep in enumerate(eps))
        svc_chains.append(f"\tchain {svc} {{\n\t\tip daddr {vip} tcp dport {port} ip saddr != {cluster_cidr} "
                          f"jump mark-for-masquerade\n\t\tnumgen random mod {len(eps)} vmap {{ {picks} }}\n\t}}")
    joined = ",\n\t\t\t     "
    head = f"""table ip kube-proxy {{
	comment "rules for kube-proxy"
	set cluster-ips {{
		type ipv4_addr
		comment "Active ClusterIPs"
		elements = {{ {joined.join(ips)} }}
	}}

	set nodeport-ips {{
		type ipv4_addr
		comment "IPs that accept NodePort traffic"
		elements = {{ 192.168.1.10 }}
	}}

	map no-endpoint-services {{
		type ipv4_addr . inet_proto . inet_service : verdict
		comment "vmap to drop or reject packets to services with no endpoints"
	}}

	map service-ips {{
		type ipv4_addr . inet_proto . inet_service : verdict
		comment "ClusterIP, ExternalIP and LoadBalancer IP traffic"
		elements = {{ {joined.join(map_elems)} }}
	}}

	map service-nodeports {{
		type inet_proto . inet_service : verdict
		comment "NodePort traffic"
	}}

	chain filter-prerouting {{
		type filter hook prerouting priority -110; policy accept;
		ct state new jump firewall-check
	}}

	chain filter-forward {{
		type filter hook forward priority -110; policy accept;
		ct state new jump endpoints-check
		ct state new jump service-endpoints-check
	}}

	chain filter-input {{
		type filter hook input priority -110; policy accept;
		ct state new jump service-endpoints-check
	}}

	chain filter-output {{
		type filter hook output priority -110; policy accept;
		ct state new jump service-endpoints-check
		ct state new jump firewall-check
	}}

	chain filter-output-post-dnat {{
		type filter hook output priority -90; policy accept;
		ct state new jump cluster-ips-check
	}}

	chain nat-prerouting {{
		type nat hook prerouting priority dstnat; policy accept;
		jump services
	}}

	chain nat-output {{
		type nat hook output priority -100; policy accept;
		jump services
	}}

	chain nat-postrouting {{
		type nat hook postrouting priority srcnat; policy accept;
		jump masquerading
	}}

	chain cluster-ips-check {{
		ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"
		ip daddr {service_cidr} drop comment "Drop traffic to unallocated ClusterIPs"
	}}

	chain endpoints-check {{
		ip daddr . meta l4proto . th dport vmap @no-endpoint-services
	}}

	chain service-endpoints-check {{
		ip daddr . meta l4proto . th dport vmap @no-endpoint-services
	}}

	chain firewall-check {{
	}}

	chain mark-for-masquerade {{
		meta mark set meta mark | 0x00004000
	}}

	chain masquerading {{
		meta mark & 0x00004000 == 0x00000000 return
		meta mark set meta mark ^ 0x00004000
		masquerade fully-random
	}}

	chain services {{
		ip daddr . meta l4proto . th dport vmap @service-ips
		ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports
	}}

"""
    return head + "\n\n".join(svc_chains) + "\n}\n"
