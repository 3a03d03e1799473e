"""Server Load Balancer items."""

from __future__ import annotations

from checks.model import CheckItem, item_factory

CIS = "CIS_ALIBABA_CLOUD_2_0"
MLPS = "MLPS_2_0_L3"
slb_item = item_factory("SLB", "LoadBalancer")

ITEMS: tuple[CheckItem, ...] = (
    slb_item("ACS_SLB_PublicHttpListener", "Internet-facing load balancers serve HTTPS, not plain HTTP", "medium", "paid",
             "n.listeners_collected", "n.address_type = 'internet' AND 'http' IN coalesce(n.listener_protocols, [])",
             {CIS: "4.8", MLPS: "8.1.4.7 data integrity"},
             "An internet-facing SLB has an HTTP listener: traffic crosses the internet unencrypted.",
             "Add an HTTPS listener with a certificate and redirect HTTP to it.", "CreateLoadBalancerHTTPSListener",
             {"listeners_collected": True, "address_type": "internet", "listener_protocols": ["https"]},
             {"listeners_collected": True, "address_type": "internet", "listener_protocols": ["http", "https"]}),
    slb_item("ACS_SLB_DeleteProtection", "Load balancers have deletion protection", "low", "paid",
             "n.listeners_collected", "NOT coalesce(n.delete_protection, false)", {MLPS: "8.1.4.10 availability"},
             "DeleteProtection is off: one API call removes the service's entry point.",
             "SetLoadBalancerDeleteProtection DeleteProtection=on.", "SetLoadBalancerDeleteProtection",
             {"listeners_collected": True, "delete_protection": True},
             {"listeners_collected": True, "delete_protection": False}),
)
