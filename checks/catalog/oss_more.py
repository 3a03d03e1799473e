"""More OSS items: public write, KMS encryption, logging hygiene, the ActionTrail log bucket (CIS 2.2)."""

from __future__ import annotations

from checks.catalog.oss import bucket_item
from checks.model import CheckItem, Example

CIS = "CIS_ALIBABA_CLOUD_2_0"
MLPS = "MLPS_2_0_L3"
AUDIT = {MLPS: "8.1.4.3"}
PUBLIC = "(n.acl IN ['public-read', 'public-read-write'] OR coalesce(n.policy_public, false))"
PUBLIC_KNOWN = "n.acl_collected AND n.policy_collected"
TRAIL_BUCKET = "EXISTS { (:Trail)-[:LOGS_TO]->(n) }"
# CIS 2.0 5.7: the bucket policy names the networks that may reach it (condition keys are case-insensitive)
_DOC = "toLower(coalesce(n.policy_document, ''))"
NETWORK_OPEN = (f"NOT ({_DOC} CONTAINS 'acs:sourceip' OR {_DOC} CONTAINS 'acs:sourcevpc') "
                f"OR {_DOC} CONTAINS '\"0.0.0.0/0\"' OR coalesce(n.policy_public, false)")
RESTRICTED_POLICY = ('{"Statement": [{"Action": ["oss:*"], "Condition": {"NotIpAddress": {"acs:SourceIp": '
                     '["10.0.0.0/8"]}}, "Effect": "Deny", "Principal": ["*"], "Resource": ["acs:oss:*:*:b/*"]}], '
                     '"Version": "1"}')
FROM_TRAIL: tuple[tuple[str, str, dict[str, object]], ...] = (("<LOGS_TO", "Trail", {}),)


def trail_bucket_item(check_id: str, title: str, severity: str, tier: str, collected: str, fails: str,
                      refs: dict[str, str], description: str, remediation: str, action: str,
                      passing: dict[str, object], failing: dict[str, object]) -> CheckItem:
    """Items about the bucket an ActionTrail trail delivers to (the population: buckets a trail logs to)."""
    return CheckItem(
        id=check_id, title=title, product="OSS", asset_type="OssBucket", severity=severity, tier=tier,
        applies=TRAIL_BUCKET, collected=collected, fails=fails, refs=refs, description=description,
        remediation=remediation, remediation_action=action,
        passing_example=Example(passing, FROM_TRAIL), failing_example=Example(failing, FROM_TRAIL),
    )


ITEMS: tuple[CheckItem, ...] = (
    bucket_item("ACS_OSS_BucketPublicReadWrite", "OSS bucket ACL does not allow anonymous writes", "critical", "free",
                "n.acl_collected", "n.acl = 'public-read-write'", {CIS: "5.1", MLPS: "8.1.4.2"},
                "The bucket ACL is public-read-write: anyone can overwrite or plant objects.",
                "PutBucketAcl private.", "PutBucketAcl",
                {"acl_collected": True, "acl": "public-read"}, {"acl_collected": True, "acl": "public-read-write"}),
    bucket_item("ACS_OSS_BucketPolicyPublicWrite", "OSS bucket policy does not grant anonymous writes", "critical", "paid",
                "n.policy_collected", "coalesce(n.policy_public_write, false)",
                {CIS: "5.1", MLPS: "8.1.4.2"},
                "An Allow statement for Principal * without Condition covers oss:PutObject.",
                "Remove the anonymous write statement from the bucket policy.", "PutBucketPolicy",
                {"policy_collected": True, "policy_public_write": False}, {"policy_collected": True, "policy_public_write": True}),
    bucket_item("ACS_OSS_BucketEncryptionKMS", "OSS bucket encrypts with KMS", "low", "paid", "n.encryption_collected",
                "toUpper(coalesce(n.encryption_algorithm, '')) <> 'KMS'", {CIS: "5.8", MLPS: "8.1.4.8"},
                "Server-side encryption is missing or uses OSS-managed keys (AES256) instead of KMS.",
                "PutBucketEncryption SSEAlgorithm=KMS (the service key, or a customer master key).", "PutBucketEncryption",
                {"encryption_collected": True, "encryption_algorithm": "KMS"},
                {"encryption_collected": True, "encryption_algorithm": "AES256"}),
    bucket_item("ACS_OSS_BucketEncryptionBYOK", "OSS bucket encrypts with a customer master key", "low", "paid",
                "n.encryption_collected",
                "toUpper(coalesce(n.encryption_algorithm, '')) <> 'KMS' OR coalesce(n.encryption_kms_key_id, '') = ''",
                {CIS: "5.9", MLPS: "8.1.4.8"},
                "Server-side encryption does not name a KMS customer master key (KMSMasterKeyID): the key is OSS's "
                "or the service key, not one the account controls.",
                "PutBucketEncryption SSEAlgorithm=KMS KMSMasterKeyID=<a customer master key in the bucket's region> "
                "(choose the key: `aliyun oss bucket-encryption --method put oss://<bucket> --sse-algorithm KMS "
                "--kms-masterkey-id <key-id>`).", None,
                {"encryption_collected": True, "encryption_algorithm": "KMS", "encryption_kms_key_id": "key-hzz6"},
                {"encryption_collected": True, "encryption_algorithm": "KMS", "encryption_kms_key_id": ""}),
    bucket_item("ACS_OSS_PublicBucketUnencrypted", "Public OSS buckets are encrypted", "high", "paid",
                f"{PUBLIC_KNOWN} AND n.encryption_collected", f"{PUBLIC} AND coalesce(n.encryption_algorithm, '') = ''",
                {MLPS: "8.1.4.8"}, "A publicly readable bucket has no server-side encryption.",
                "Make the bucket private, and enable server-side encryption.", "PutBucketEncryption",
                {"acl_collected": True, "policy_collected": True, "encryption_collected": True, "acl": "public-read",
                 "encryption_algorithm": "AES256"},
                {"acl_collected": True, "policy_collected": True, "encryption_collected": True, "acl": "public-read",
                 "encryption_algorithm": ""}),
    bucket_item("ACS_OSS_PublicBucketLogging", "Public OSS buckets log access", "medium", "paid",
                f"{PUBLIC_KNOWN} AND n.logging_collected", f"{PUBLIC} AND NOT coalesce(n.logging_enabled, false)",
                {CIS: "5.3", **AUDIT},
                "A bucket anyone can read has no access logging: downloads by strangers leave no trace.",
                "PutBucketLogging to a dedicated private log bucket (and reconsider the public access).", "PutBucketLogging",
                {"acl_collected": True, "policy_collected": True, "logging_collected": True, "acl": "public-read",
                 "logging_enabled": True},
                {"acl_collected": True, "policy_collected": True, "logging_collected": True, "acl": "public-read",
                 "logging_enabled": False}),
    bucket_item("ACS_OSS_BucketLoggingToItself", "OSS access logs go to another bucket", "low", "paid",
                "n.logging_collected", "coalesce(n.logging_enabled, false) AND n.logging_target = n.id", AUDIT,
                "The bucket writes its access logs into itself: log writes are logged again, and whoever can "
                "write the bucket can rewrite its own access history.",
                "PutBucketLogging with TargetBucket set to a dedicated log bucket.", "PutBucketLogging",
                {"logging_collected": True, "logging_enabled": True, "logging_target": "central-logs"},
                {"id": "app-data", "logging_collected": True, "logging_enabled": True, "logging_target": "app-data"}),
    bucket_item("ACS_OSS_BucketNetworkRestricted", "OSS bucket access is limited to chosen networks", "low", "paid",
                "n.policy_collected", NETWORK_OPEN, {CIS: "5.7"},
                "No bucket-policy statement conditions access on the source network (acs:SourceIp, acs:SourceVpc), "
                "or one admits 0.0.0.0/0, or an anonymous Allow has no Condition at all: the bucket accepts "
                "requests from any network.",
                "Manual (which networks may reach the bucket is your choice): add a bucket-policy statement, e.g. "
                "Effect Deny, Principal *, Action oss:*, Resource the bucket and its objects, Condition "
                "NotIpAddress acs:SourceIp [<office and VPC CIDRs>] (or StringNotEquals acs:SourceVpc <vpc-id>), "
                "with `aliyun oss bucket-policy --method put oss://<bucket> policy.json`.", None,
                {"policy_collected": True, "policy_document": RESTRICTED_POLICY},
                {"policy_collected": True, "policy_document": ""}),
    trail_bucket_item("ACS_OSS_TrailBucketNotPublic", "The ActionTrail log bucket is not publicly accessible", "high",
                      "free", PUBLIC_KNOWN, PUBLIC, {CIS: "2.2", **AUDIT},
                      "The bucket ActionTrail delivers to is public through its ACL or bucket policy.",
                      "PutBucketAcl private and remove anonymous bucket-policy statements.", "PutBucketAcl",
                      {"acl_collected": True, "policy_collected": True, "acl": "private"},
                      {"acl_collected": True, "policy_collected": True, "acl": "public-read"}),
    trail_bucket_item("ACS_OSS_TrailBucketLogging", "The ActionTrail log bucket has access logging", "medium", "paid",
                      "n.logging_collected", "NOT coalesce(n.logging_enabled, false)", {CIS: "5.3", **AUDIT},
                      "Reads of the audit trail itself are not logged.", "PutBucketLogging on the trail's bucket.",
                      "PutBucketLogging", {"logging_collected": True, "logging_enabled": True},
                      {"logging_collected": True, "logging_enabled": False}),
    trail_bucket_item("ACS_OSS_TrailBucketVersioning", "The ActionTrail log bucket keeps object versions", "medium",
                      "paid", "n.versioning_collected", "coalesce(n.versioning_status, '') <> 'Enabled'",
                      {MLPS: "8.1.4.3"},
                      "Versioning is not Enabled on the trail's bucket: an intruder can overwrite or delete the audit "
                      "records of what they did.", "PutBucketVersioning Status=Enabled on the trail's bucket.",
                      "PutBucketVersioning", {"versioning_collected": True, "versioning_status": "Enabled"},
                      {"versioning_collected": True, "versioning_status": ""}),
    trail_bucket_item("ACS_OSS_TrailBucketEncryption", "The ActionTrail log bucket is encrypted", "medium", "paid",
                      "n.encryption_collected", "coalesce(n.encryption_algorithm, '') = ''",
                      {CIS: "5.8", MLPS: "8.1.4.8"},
                      "The trail's bucket has no server-side encryption.",
                      "PutBucketEncryption on the trail's bucket (KMS preferred).", "PutBucketEncryption",
                      {"encryption_collected": True, "encryption_algorithm": "KMS"},
                      {"encryption_collected": True, "encryption_algorithm": ""}),
)
