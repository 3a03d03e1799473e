"""ApsaraDB for MongoDB items (the shared data-store items over its instances)."""

from __future__ import annotations

from checks.catalog.data_stores import data_store_items
from checks.model import CheckItem

ITEMS: tuple[CheckItem, ...] = data_store_items(
    "MONGODB", "MongodbInstance", "MongoDB instance",
    ("WhitelistPublic", "WhitelistWide", "PublicEndpoint", "PublicAndOpen", "SSLEnabled", "TDEEnabled",
     "BackupRetention", "LongBackupRetention", "AuditEnabled", "ClassicNetwork"), end_of_life=("3.2", "3.4", "4.0"))
