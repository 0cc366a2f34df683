"""An S3 bucket with the defaults every bucket here needs: private, encrypted, TLS only."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import S3BucketOwnershipControls, S3BucketOwnershipControlsRule
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import S3BucketVersioningA, S3BucketVersioningVersioningConfiguration
from cdktf import Fn
from constructs import Construct


class PrivateBucket(Construct):
    """Public access blocked, objects owned by the bucket owner, SSE, HTTPS-only policy, optional versioning."""

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
    ) -> None:
        super().__init__(scope, id)
        self.bucket = S3Bucket(self, "Bucket", provider=provider, bucket=bucket, bucket_prefix=bucket_prefix, force_destroy=force_destroy)
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
            self, "Ownership", provider=provider, bucket=self.bucket.id, rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced")
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
        if versioned:
            S3BucketVersioningA(
                self,
                "Versioning",
                provider=provider,
                bucket=self.bucket.id,
                versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
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
