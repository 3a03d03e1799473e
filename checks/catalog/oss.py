"""OSS bucket check items (policy facts are computed at ingest by the RAM policy engine)."""

from __future__ import annotations

from checks.model import CheckItem, item_factory

CIS = "CIS_ALIBABA_CLOUD_2_0"
MLPS = "MLPS_2_0_L3"


bucket_item = item_factory("OSS", "OssBucket")

ITEMS: tuple[CheckItem, ...] = (
    bucket_item("ACS_OSS_BucketPublicAcl", "OSS bucket ACL is not public", "high", "free", "n.acl_collected",
                "n.acl IN ['public-read', 'public-read-write']", {CIS: "5.1", MLPS: "8.1.4.2"},
                "The bucket ACL is public-read or public-read-write: anyone can list/read (or write) objects.",
                "Set the bucket ACL to private (PutBucketAcl x-oss-acl: private).", "PutBucketAcl",
                {"acl_collected": True, "acl": "private"}, {"acl_collected": True, "acl": "public-read"}),
    bucket_item("ACS_OSS_BucketPolicyPublic", "OSS bucket policy does not grant anonymous access", "high", "paid",
                "n.policy_collected", "coalesce(n.policy_public, false)", {CIS: "5.1", MLPS: "8.1.4.2"},
                "The bucket policy has an Allow statement whose Principal is (or contains) * and has no Condition.",
                "Remove the anonymous Allow statement or add a Condition (e.g. acs:SourceIp, acs:SourceVpc).",
                "PutBucketPolicy",
                {"policy_collected": True, "policy_public": False}, {"policy_collected": True, "policy_public": True}),
    bucket_item("ACS_OSS_BucketSecureTransport", "OSS bucket policy denies insecure transport", "medium", "paid",
                "n.policy_collected", "NOT coalesce(n.policy_secure_transport, false)",
                {CIS: "5.4", MLPS: "8.1.4.7"},
                "No bucket-policy statement denies requests with acs:SecureTransport = false.",
                "Add a bucket-policy statement: Effect Deny, Principal *, Action oss:*, Condition "
                "Bool acs:SecureTransport false.", "PutBucketPolicy",
                {"policy_collected": True, "policy_secure_transport": True},
                {"policy_collected": True, "policy_secure_transport": False}),
    bucket_item("ACS_OSS_BucketEncryption", "OSS bucket has server-side encryption", "medium", "paid",
                "n.encryption_collected", "coalesce(n.encryption_algorithm, '') = ''",
                {CIS: "5.8", MLPS: "8.1.4.8"}, "No server-side encryption rule is set.",
                "PutBucketEncryption with SSEAlgorithm AES256 or KMS.", "PutBucketEncryption",
                {"encryption_collected": True, "encryption_algorithm": "AES256"},
                {"encryption_collected": True, "encryption_algorithm": ""}),
    bucket_item("ACS_OSS_BucketLogging", "OSS bucket access logging is enabled", "low", "paid", "n.logging_collected",
                "NOT coalesce(n.logging_enabled, false)", {CIS: "5.3", MLPS: "8.1.4.3"},
                "Access logging is disabled.", "PutBucketLogging to a dedicated log bucket.", "PutBucketLogging",
                {"logging_collected": True, "logging_enabled": True}, {"logging_collected": True, "logging_enabled": False}),
    bucket_item("ACS_OSS_BucketVersioning", "OSS bucket versioning is enabled", "low", "paid", "n.versioning_collected",
                "coalesce(n.versioning_status, '') <> 'Enabled'", {MLPS: "8.1.4.9"},
                "Versioning is not Enabled, so overwritten or deleted objects cannot be recovered.",
                "PutBucketVersioning Status=Enabled.", "PutBucketVersioning",
                {"versioning_collected": True, "versioning_status": "Enabled"},
                {"versioning_collected": True, "versioning_status": "Suspended"}),
)
