"""Server Load Balancer (classic SLB) items."""

from __future__ import annotations

from checks.model import CheckItem, item_factory

CIS = "CIS_ALIBABA_CLOUD_2_0"
MLPS = "MLPS_2_0_L3"
slb_item = item_factory("SLB", "LoadBalancer")
LISTENERS = {"listeners_collected": True}
INTERNET = "n.address_type = 'internet'"
WEAK_TLS_POLICIES = ("tls_cipher_policy_1_0", "tls_cipher_policy_1_1")


def public_port_item(check_id: str, title: str, service: str, ports: tuple[int, ...]) -> CheckItem:
    """An internet-facing load balancer that forwards `ports` (administration or database services)."""
    port_text = ", ".join(str(p) for p in ports)
    return slb_item(check_id, title, "high", "paid", "n.listeners_collected",
                    f"{INTERNET} AND any(p IN coalesce(n.listener_ports, []) WHERE p IN {list(ports)!r})",
                    {MLPS: "8.1.3.2"},
                    f"An internet-facing load balancer listens on {service} ports ({port_text}) and forwards them to "
                    "its backends: the service is published to the whole internet.",
                    "Manual (deleting the listener takes the service off the internet): restrict it to trusted "
                    "sources (`aliyun slb CreateAccessControlList`, `aliyun slb AddAccessControlListEntry`, `aliyun slb "
                    "SetListenerAccessControlStatus --LoadBalancerId <lb> --ListenerPort <p> --AccessControlStatus "
                    "open_acl`), or move it behind an intranet load balancer / VPN and `aliyun slb "
                    "DeleteLoadBalancerListener --LoadBalancerId <lb> --ListenerPort <p>`.",
                    None,
                    {**LISTENERS, "address_type": "internet", "listener_ports": [443]},
                    {**LISTENERS, "address_type": "internet", "listener_ports": [443, ports[0]]})


ITEMS: tuple[CheckItem, ...] = (
    slb_item("ACS_SLB_PublicHttpListener", "Internet-facing load balancers serve HTTPS, not plain HTTP", "medium", "paid",
             "n.listeners_collected", f"{INTERNET} AND 'http' IN coalesce(n.listener_protocols, [])",
             {MLPS: "8.1.2.2"},
             "An internet-facing SLB has an HTTP listener: traffic crosses the internet unencrypted.",
             "Manual (needs a certificate): `aliyun slb UploadServerCertificate`, `aliyun slb "
             "CreateLoadBalancerHTTPSListener --LoadBalancerId <lb> --ListenerPort 443 --BackendServerPort <p> "
             "--ServerCertificateId <cert> --Bandwidth -1`, then redirect HTTP: `aliyun slb "
             "SetLoadBalancerHTTPListenerAttribute --LoadBalancerId <lb> --ListenerPort 80 --ListenerForward on "
             "--ForwardPort 443`.", None,
             {**LISTENERS, "address_type": "internet", "listener_protocols": ["https"]},
             {**LISTENERS, "address_type": "internet", "listener_protocols": ["http", "https"]}),
    slb_item("ACS_SLB_DeleteProtection", "Load balancers have deletion protection", "low", "paid",
             "n.listeners_collected", "NOT coalesce(n.delete_protection, false)", {MLPS: "8.1.2.1"},
             "DeleteProtection is off: one API call removes the service's entry point.",
             "SetLoadBalancerDeleteProtection DeleteProtection=on.", "SetLoadBalancerDeleteProtection",
             {**LISTENERS, "delete_protection": True}, {**LISTENERS, "delete_protection": False}),
    public_port_item("ACS_SLB_PublicAdminPorts", "Internet-facing load balancers do not publish SSH or RDP",
                     "remote administration", (22, 3389)),
    public_port_item("ACS_SLB_PublicDatabasePorts", "Internet-facing load balancers do not publish databases",
                     "database", (1433, 1521, 3306, 5432, 6379, 9200, 27017)),
    slb_item("ACS_SLB_WeakTlsPolicy", "HTTPS listeners refuse TLS 1.0 and 1.1", "medium", "paid",
             "n.listeners_collected AND coalesce(n.tls_collected, false)",
             f"any(p IN coalesce(n.tls_policies, []) WHERE p IN {list(WEAK_TLS_POLICIES)!r})",
             {MLPS: "8.1.2.2"},
             "An HTTPS listener uses tls_cipher_policy_1_0 or _1_1, which still negotiate TLS 1.0/1.1 and weak ciphers.",
             "Manual (the graph keeps the set of TLS policies, not which listener has which): for each HTTPS "
             "listener `aliyun slb DescribeLoadBalancerHTTPSListenerAttribute --LoadBalancerId <lb> --ListenerPort <p>`; "
             "where TLSCipherPolicy is tls_cipher_policy_1_0 or _1_1: `aliyun slb SetLoadBalancerHTTPSListenerAttribute "
             "--LoadBalancerId <lb> --ListenerPort <p> --TLSCipherPolicy tls_cipher_policy_1_2`.",
             None,
             {**LISTENERS, "tls_collected": True, "tls_policies": ["tls_cipher_policy_1_2"]},
             {**LISTENERS, "tls_collected": True, "tls_policies": ["tls_cipher_policy_1_0"]}),
    slb_item("ACS_SLB_NoListeners", "Load balancers have listeners", "low", "free", "n.listeners_collected",
             "size(coalesce(n.listener_ports, [])) = 0", {MLPS: "8.1.3.2"},
             "The load balancer has no listener: an idle public or private address that costs money and may be "
             "reused by mistake.", "Manual (deletion is irreversible and releases the address): make sure nothing "
             "resolves to it, `aliyun slb SetLoadBalancerDeleteProtection --LoadBalancerId <lb> --DeleteProtection off`, "
             "then `aliyun slb DeleteLoadBalancer --LoadBalancerId <lb>`.", None,
             {**LISTENERS, "listener_ports": [443]}, {**LISTENERS, "listener_ports": []}),
)
