"""A host report carrying secrets an agent must never send, planted where no declared fact reads them."""

from __future__ import annotations

import copy
from typing import Any

SHADOW_HASH = "$6$plantedSALT$Q9v8Xk2mZ0plantedHASHplantedHASHplantedHASHplantedHASH0123456789abcdefgh"
PRIVATE_KEY = ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQplanted\n"
               "-----END OPENSSH PRIVATE KEY-----")
AWS_SECRET = "AWS_SECRET=wJalrXUtnFEMIplantedK7MDENGbPxRfiCYEXAMPLEKEY"
ALIBABA_SECRET = "ALIBABA_CLOUD_ACCESS_KEY_SECRET=plantedAlibabaSecret0123456789ab"
PASSWORD = "Pl4nted-Passw0rd!in-an-unknown-field"
PLANTED = (SHADOW_HASH, PRIVATE_KEY, "OPENSSH PRIVATE KEY", AWS_SECRET, "wJalrXUtnFEMIplantedK7MDENG", ALIBABA_SECRET,
           "plantedAlibabaSecret", PASSWORD, "plantedSALT")


def planted(report: dict[str, Any], host_id: str | None = None) -> dict[str, Any]:
    """`report` with secrets in unknown keys at every level (its declared facts unchanged)."""
    doc = copy.deepcopy(report)
    if host_id:
        doc["host_id"] = host_id
    doc["shadow"] = [f"root:{SHADOW_HASH}:19000:0:99999:7:::"]
    doc["environ"] = [AWS_SECRET, ALIBABA_SECRET, "PATH=/usr/bin"]
    doc["ssh_host_keys"] = {"ed25519": PRIVATE_KEY}
    doc["db"] = {"user": "app", "password": PASSWORD}
    doc.setdefault("sshd", {})["HostKeyContents"] = PRIVATE_KEY
    doc.setdefault("login_defs", {})["ENCRYPT_SECRET"] = SHADOW_HASH
    doc.setdefault("pwquality", {})["dictpath"] = PASSWORD
    doc.setdefault("os", {})["kernel_cmdline"] = AWS_SECRET
    for account in doc.get("accounts") or []:
        account["hash"] = SHADOW_HASH
        account["gecos"] = PASSWORD
    for patch in doc.get("missing_patches") or []:
        patch["advisory_text"] = ALIBABA_SECRET
    for container in doc.get("containers") or []:
        container["env"] = [AWS_SECRET, ALIBABA_SECRET]
    return doc
