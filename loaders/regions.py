"""Supported regions and product limitations (spec/regions.md) as data: a new limitation is one line."""

from __future__ import annotations

SUPPORTED_REGIONS: frozenset[str] = frozenset(
    """
    cn-fuzhou cn-qingdao cn-beijing cn-zhangjiakou cn-huhehaote cn-wulanchabu cn-hangzhou cn-shanghai
    cn-shenzhen cn-heyuan cn-guangzhou cn-chengdu cn-nanjing cn-hongkong cn-hangzhou-finance
    cn-beijing-finance-1 cn-shanghai-finance-1 cn-shenzhen-finance-1 cn-north-2-gov-1 cn-heyuan-acdr-1
    global-virtual ap-northeast-2 ap-southeast-1 ap-southeast-3 ap-southeast-5 ap-southeast-6
    ap-southeast-7 me-central-1 us-east-1 us-west-1 me-east-1 eu-central-1 eu-west-1 ap-northeast-1
    na-south-1
    """.split()
)

GLOBAL = "global"

# product code (lower case, as in snapshots) → regions where it is not supported
PRODUCT_LIMITATIONS: dict[str, frozenset[str]] = {
    "ecs": frozenset({"cn-wulanchabu-acdr-ut-1"}),
    "ram": frozenset({"cn-hangzhou-acdr-ut-1", "ap-southeast-2"}),
    "gpdb": frozenset({"cn-qingdao"}),
    "nas": frozenset({"cn-shanghai-finance-1"}),
    "lingjun": frozenset(
        {"cn-huhehaote", "cn-chengdu-ant", "cn-wulanchabu-acdr-1", "cn-shanghai-finance-1", "cn-hangzhou-acdr-ut-1"}
    ),
    "rocketmq4": frozenset({"cn-guangzhou", "cn-heyuan-acdr-1"}),
    "actiontrail": frozenset({"ap-southeast-2"}),
    "rds": frozenset({"ap-southeast-2"}),
    "sls": frozenset({"ap-southeast-2"}),
    "apigateway": frozenset({"ap-southeast-2"}),
    "dts": frozenset({"ap-southeast-2"}),
    "rocketmq": frozenset({"ap-southeast-2"}),
    "mse": frozenset({"me-east-1"}),
    "polardbx": frozenset({"ap-northeast-1"}),
}

# (product, engine) → versions on which a check item is not supported
VERSION_LIMITATIONS: dict[tuple[str, str], dict[str, frozenset[str]]] = {
    ("rds", "mysql"): {"ACS_RDS_DBInstanceHAConfig": frozenset({"5.1", "5.5"})},
}

# every public region id we know of (live collection visits these; unsupported ones are loaded
# and marked so that checks report NOT_SUPPORTED)
ALL_REGIONS: tuple[str, ...] = tuple(
    sorted(
        SUPPORTED_REGIONS
        | {"ap-southeast-2", "ap-south-1", "cn-wulanchabu-acdr-ut-1", "cn-hangzhou-acdr-ut-1"}
        - {"global-virtual"}
    )
)


def is_supported(product: str, region: str) -> bool:
    """Whether assets of `product` in `region` are analysed (global RAM/OSS listing always is)."""
    product = product.lower()
    if region in PRODUCT_LIMITATIONS.get(product, frozenset()):
        return False
    if region == GLOBAL:
        return True
    return region in SUPPORTED_REGIONS


def version_unsupported(product: str, engine: str, version: str) -> list[str]:
    """Check ids that are NOT_SUPPORTED for this engine version."""
    limits = VERSION_LIMITATIONS.get((product.lower(), engine.lower()), {})
    return sorted(item for item, versions in limits.items() if version in versions)
