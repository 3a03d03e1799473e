"""PolarDB items (the shared data-store items over its clusters)."""

from __future__ import annotations

from checks.catalog.data_stores import data_store_items
from checks.model import CheckItem

ITEMS: tuple[CheckItem, ...] = data_store_items(
    "POLARDB", "PolardbCluster", "PolarDB cluster",
    ("WhitelistPublic", "WhitelistWide", "PublicEndpoint", "PublicAndOpen", "SSLEnabled", "TDEEnabled",
     "BackupRetention", "LongBackupRetention", "AuditEnabled"), end_of_life=("5.6",))
