"""Further regional products (beyond the spec's minimum). Each module has
`collect_region(ctx, region) -> raw` (calls made with optional=True, so a snapshot without them
simply holds no such assets) and `transform_region(raw, batch)`. Add a module here to register it.
"""

from __future__ import annotations

from types import ModuleType

from loaders import kms, slb, sls

# product code as in snapshots (lower case) → module
EXTRA_REGIONAL_PRODUCTS: dict[str, ModuleType] = {"slb": slb, "kms": kms, "sls": sls}
