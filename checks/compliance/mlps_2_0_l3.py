"""China MLPS 2.0 level 3 (GB/T 22239-2019 §8.1, general security requirements of level 3): the technical
control points of the sections a cloud configuration scan can speak to — 8.1.2 security communication
network, 8.1.3 security area boundary, 8.1.4 security computing environment, 8.1.5 security management
centre. A check item's `refs["MLPS_2_0_L3"]` is the control point's number (e.g. "8.1.4.1").

Out of scope, so not listed: 8.1.1 physical environment and the management requirements 8.1.6–8.1.10
(policies, organisation, personnel, construction and operations management), and the cloud extension
requirements of §8.2: none of them is a configuration fact.
"""

from __future__ import annotations

from checks.compliance import Framework, Requirement

PACKAGE = "MLPS_2_0_L3"

SECTIONS = {
    "8.1.2": "Security communication network (安全通信网络)",
    "8.1.3": "Security area boundary (安全区域边界)",
    "8.1.4": "Security computing environment (安全计算环境)",
    "8.1.5": "Security management centre (安全管理中心)",
}

_NOT_CONFIG = "not a configuration fact Skypath collects"

# id, title, why not decidable (None: decided by catalog items)
_LIST: tuple[tuple[str, str, str | None], ...] = (
    ("8.1.2.1", "Network architecture (网络架构)", None),
    ("8.1.2.2", "Communication transmission (通信传输)", None),
    ("8.1.2.3", "Trusted verification (可信验证)", "trusted boot / trusted-root verification of network devices is "
     + _NOT_CONFIG),
    ("8.1.3.1", "Boundary protection (边界防护)", None),
    ("8.1.3.2", "Access control (访问控制)", None),
    ("8.1.3.3", "Intrusion prevention (入侵防范)", "needs network intrusion detection at the boundary (Cloud Firewall, "
     "WAF, Anti-DDoS, Security Center) settings, not collected"),
    ("8.1.3.4", "Malicious code and spam prevention (恶意代码和垃圾邮件防范)", "boundary anti-malware / anti-spam "
     "settings are not collected"),
    ("8.1.3.5", "Security audit (安全审计)", None),  # VPC flow logs
    ("8.1.3.6", "Trusted verification (可信验证)", "trusted verification of boundary devices is " + _NOT_CONFIG),
    ("8.1.4.1", "Identity authentication (身份鉴别)", None),
    ("8.1.4.2", "Access control (访问控制)", None),
    ("8.1.4.3", "Security audit (安全审计)", None),
    ("8.1.4.4", "Intrusion prevention (入侵防范)", None),
    ("8.1.4.5", "Malicious code prevention (恶意代码防范)", None),  # the Security Center agent and edition
    ("8.1.4.6", "Trusted verification (可信验证)", "trusted verification of computing devices is " + _NOT_CONFIG),
    ("8.1.4.7", "Data integrity (数据完整性)", None),
    ("8.1.4.8", "Data confidentiality (数据保密性)", None),
    ("8.1.4.9", "Data backup and recovery (数据备份恢复)", None),
    ("8.1.4.10", "Residual information protection (剩余信息保护)", "clearing of released storage and memory is "
     + _NOT_CONFIG),
    ("8.1.4.11", "Personal information protection (个人信息保护)", "what personal information is collected and "
     "used is " + _NOT_CONFIG),
    ("8.1.5.1", "System management (系统管理)", "administrator roles, designated management interfaces and their "
     "audit are organisational; " + _NOT_CONFIG),
    ("8.1.5.2", "Audit management (审计管理)", "separate audit administrators are organisational; " + _NOT_CONFIG),
    ("8.1.5.3", "Security management (安全管理)", "separate security administrators are organisational; "
     + _NOT_CONFIG),
    ("8.1.5.4", "Centralized management and control (集中管控)", None),
)

NOTES = {
    "8.1.2.1": "redundancy of key devices: load balancer deletion protection, VPC (not classic) networking",
    "8.1.2.2": "TLS on internet-facing load balancer listeners",
    "8.1.3.1": "traffic crosses the boundary through controlled interfaces: no public address on instances",
    "8.1.4.9": "backups, versioning, and hot redundancy (RDS high availability, control point c)",
    "8.1.5.4": "audit data collected centrally (ActionTrail to Log Service) and kept as the law requires "
               "(six months)",
}

FRAMEWORK = Framework(
    package=PACKAGE,
    title="China MLPS 2.0 (GB/T 22239-2019) level 3",
    source="GB/T 22239-2019 Information security technology — Baseline for classified protection of "
           "cybersecurity, §8.1 (level 3 general requirements)",
    sections=SECTIONS,
    scope="technical control points of 8.1.2–8.1.5; physical (8.1.1), management (8.1.6–8.1.10) and cloud "
          "extension (8.2) requirements are out of scope",
    requirements=tuple(
        Requirement(id=rid, section=rid.rsplit(".", 1)[0], title=title, not_decidable=reason,
                    note=NOTES.get(rid, ""))
        for rid, title, reason in _LIST
    ),
)
