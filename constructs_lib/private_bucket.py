"""An S3 bucket with the defaults every bucket here needs: private, encrypted, TLS only."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import Fn
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import S3BucketOwnershipControls, S3BucketOwnershipControlsRule
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import S3BucketVersioningA, S3BucketVersioningVersioningConfiguration
from constructs import Construct

from constructs_lib.policy_checks import skip_check

# Earlier versions of a versioned bucket's objects (Terraform states) are kept this long.
NONCURRENT_VERSION_DAYS = 90


class PrivateBucket(Construct):
    """Public access blocked, objects owned by the bucket owner, SSE, HTTPS-only policy, optional versioning.

    One lifecycle configuration per bucket (S3 allows no more): incomplete
    multipart uploads are aborted after a day, earlier versions expire after
    ``NONCURRENT_VERSION_DAYS``, and the caller may add its own ``lifecycle_rules``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        provider: AwsProvider,
        force_destroy: bool,
        versioned: bool,
        bucket: str | None = None,
        bucket_prefix: str | None = None,
        lifecycle_rules: Sequence[S3BucketLifecycleConfigurationRule] = (),
    ) -> None:
        super().__init__(scope, id)
        self.bucket = S3Bucket(
            self, "Bucket", provider=provider, bucket=bucket, bucket_prefix=bucket_prefix, force_destroy=force_destroy
        )
        skip_check(
            self.bucket,
            "CKV_AWS_18",
            "Server access logs need a second bucket per bucket; object access is auditable through CloudTrail "
            "S3 data events, which the operator enables account-wide where required",
        )
        skip_check(
            self.bucket, "CKV2_AWS_62", "Nothing here consumes S3 event notifications; enabling them would deliver to no one"
        )
        skip_check(
            self.bucket,
            "CKV_AWS_145",
            "Encrypted with SSE-S3 (AES-256), public access blocked, TLS-only policy; a customer-managed KMS key "
            "(key policy, per-key cost, kms:Decrypt for every reader) is the operator's choice",
        )
        public_access = S3BucketPublicAccessBlock(
            self,
            "PublicAccessBlock",
            provider=provider,
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        S3BucketOwnershipControls(
            self,
            "Ownership",
            provider=provider,
            bucket=self.bucket.id,
            rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
        )
        S3BucketServerSideEncryptionConfigurationA(
            self,
            "Encryption",
            provider=provider,
            bucket=self.bucket.id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                        sse_algorithm="AES256"
                    ),
                    bucket_key_enabled=True,
                )
            ],
        )
        versioning = None
        if versioned:
            versioning = S3BucketVersioningA(
                self,
                "Versioning",
                provider=provider,
                bucket=self.bucket.id,
                versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
            )
        S3BucketLifecycleConfiguration(
            self,
            "Lifecycle",
            provider=provider,
            bucket=self.bucket.id,
            depends_on=[versioning] if versioning else None,
            rule=[*lifecycle_rules, self._housekeeping_rule(versioned)],
        )
        S3BucketPolicy(
            self,
            "TlsOnly",
            provider=provider,
            bucket=self.bucket.id,
            depends_on=[public_access],
            policy=Fn.jsonencode(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "DenyInsecureTransport",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": [self.bucket.arn, f"{self.bucket.arn}/*"],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        }
                    ],
                }
            ),
        )

    @staticmethod
    def _housekeeping_rule(versioned: bool) -> S3BucketLifecycleConfigurationRule:
        """Whole bucket: abort uploads left incomplete, and expire earlier versions of a versioned bucket."""
        return S3BucketLifecycleConfigurationRule(
            id="housekeeping",
            status="Enabled",
            filter=[S3BucketLifecycleConfigurationRuleFilter()],
            abort_incomplete_multipart_upload=[
                S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(days_after_initiation=1)
            ],
            noncurrent_version_expiration=[
                S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(noncurrent_days=NONCURRENT_VERSION_DAYS)
            ]
            if versioned
            else None,
        )
