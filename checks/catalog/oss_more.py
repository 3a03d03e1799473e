"""More OSS items: public write, KMS encryption, the ActionTrail log bucket (CIS 2.x)."""

from __future__ import annotations

from checks.catalog.oss import bucket_item
from checks.model import CheckItem, Example

CIS = "CIS_ALIBABA_CLOUD_2_0"
MLPS = "MLPS_2_0_L3"
PUBLIC = "(n.acl IN ['public-read', 'public-read-write'] OR coalesce(n.policy_public, false))"
TRAIL_BUCKET = "EXISTS { (:Trail)-[:LOGS_TO]->(n) }"

ITEMS: tuple[CheckItem, ...] = (
    bucket_item("ACS_OSS_BucketPublicReadWrite", "OSS bucket ACL does not allow anonymous writes", "critical", "free",
                "n.acl_collected", "n.acl = 'public-read-write'", {CIS: "5.1", MLPS: "8.1.4.2 access control"},
                "The bucket ACL is public-read-write: anyone can overwrite or plant objects.",
                "PutBucketAcl private.", "PutBucketAcl",
                {"acl_collected": True, "acl": "public-read"}, {"acl_collected": True, "acl": "public-read-write"}),
    bucket_item("ACS_OSS_BucketPolicyPublicWrite", "OSS bucket policy does not grant anonymous writes", "critical", "paid",
                "n.policy_collected", "coalesce(n.policy_public_write, false)", {MLPS: "8.1.4.2 access control"},
                "An Allow statement for Principal * without Condition covers oss:PutObject.",
                "Remove the anonymous write statement from the bucket policy.", "PutBucketPolicy",
                {"policy_collected": True, "policy_public_write": False}, {"policy_collected": True, "policy_public_write": True}),
    bucket_item("ACS_OSS_BucketEncryptionKMS", "OSS bucket encrypts with KMS", "low", "paid", "n.encryption_collected",
                "toUpper(coalesce(n.encryption_algorithm, '')) <> 'KMS'", {CIS: "5.3", MLPS: "8.1.4.8 data confidentiality"},
                "Server-side encryption is missing or uses OSS-managed keys instead of a KMS key.",
                "PutBucketEncryption SSEAlgorithm=KMS with a customer master key.", "PutBucketEncryption",
                {"encryption_collected": True, "encryption_algorithm": "KMS"},
                {"encryption_collected": True, "encryption_algorithm": "AES256"}),
    bucket_item("ACS_OSS_PublicBucketUnencrypted", "Public OSS buckets are encrypted", "high", "paid",
                "n.acl_collected AND n.encryption_collected", f"{PUBLIC} AND coalesce(n.encryption_algorithm, '') = ''",
                {MLPS: "8.1.4.8 data confidentiality"}, "A publicly readable bucket has no server-side encryption.",
                "Make the bucket private, and enable server-side encryption.", "PutBucketEncryption",
                {"acl_collected": True, "encryption_collected": True, "acl": "public-read", "encryption_algorithm": "AES256"},
                {"acl_collected": True, "encryption_collected": True, "acl": "public-read", "encryption_algorithm": ""}),
    CheckItem(
        id="ACS_OSS_TrailBucketNotPublic", title="The ActionTrail log bucket is not publicly accessible", product="OSS",
        asset_type="OssBucket", severity="high", tier="free", applies=TRAIL_BUCKET,
        collected="n.acl_collected AND n.policy_collected", fails=PUBLIC, refs={CIS: "2.3", MLPS: "8.1.4.3 security audit"},
        description="The bucket ActionTrail delivers to is public through its ACL or bucket policy.",
        remediation="PutBucketAcl private and remove anonymous bucket-policy statements.", remediation_action="PutBucketAcl",
        passing_example=Example({"acl_collected": True, "policy_collected": True, "acl": "private"}, (("<LOGS_TO", "Trail", {}),)),
        failing_example=Example({"acl_collected": True, "policy_collected": True, "acl": "public-read"}, (("<LOGS_TO", "Trail", {}),)),
    ),
    CheckItem(
        id="ACS_OSS_TrailBucketLogging", title="The ActionTrail log bucket has access logging", product="OSS",
        asset_type="OssBucket", severity="medium", tier="paid", applies=TRAIL_BUCKET, collected="n.logging_collected",
        fails="NOT coalesce(n.logging_enabled, false)", refs={CIS: "2.4", MLPS: "8.1.4.3 security audit"},
        description="Reads of the audit log bucket are not themselves logged.",
        remediation="PutBucketLogging on the trail's bucket.", remediation_action="PutBucketLogging",
        passing_example=Example({"logging_collected": True, "logging_enabled": True}, (("<LOGS_TO", "Trail", {}),)),
        failing_example=Example({"logging_collected": True, "logging_enabled": False}, (("<LOGS_TO", "Trail", {}),)),
    ),
)
