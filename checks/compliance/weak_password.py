"""WEAK_PASSWORD: the weak-password baseline (every item the Advanced edition may run). One requirement,
under the id the catalog's items use."""

from __future__ import annotations

from checks.compliance import Framework, Requirement

PACKAGE = "WEAK_PASSWORD"

FRAMEWORK = Framework(
    package=PACKAGE,
    title="Weak passwords (the Advanced edition's baseline)",
    source="Skypath's weak-password baseline (check-items.md: the weak password items)",
    sections={"weak_password": "Weak password detection on hosts"},
    requirements=(
        Requirement(id="weak password", section="weak_password",
                    title="No host account, root included, has a password from the weak-password dictionary, "
                          "and none is usable over SSH",
                    note="tested on the host by the agent; password hashes never leave it"),
    ),
)
