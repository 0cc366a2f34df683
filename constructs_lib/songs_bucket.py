"""The S3 bucket holding uploaded songs, shared by the app in both regions."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
)
from constructs import Construct

from constructs_lib.iam import Statement
from constructs_lib.policy_checks import skip_check
from constructs_lib.private_bucket import PrivateBucket

SONGS_PREFIX = "songs/"


class SongsBucket(Construct):
    """One private bucket in the primary region: a song uploaded in either region plays in both.

    Songs live six hours (the app's cleaner deletes them); the lifecycle rule is
    the backstop that empties the bucket if no cleaner runs.
    """

    def __init__(self, scope: Construct, id: str, *, provider: AwsProvider, name_prefix: str, force_destroy: bool) -> None:
        super().__init__(scope, id)
        self.prefix = SONGS_PREFIX
        self.private = PrivateBucket(
            self,
            "Bucket",
            provider=provider,
            bucket_prefix=f"{name_prefix}-songs-",
            force_destroy=force_destroy,
            versioned=False,
            lifecycle_rules=[
                S3BucketLifecycleConfigurationRule(
                    id="expire-songs",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix=SONGS_PREFIX)],
                    expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=2)],
                )
            ],
        )
        ephemeral = "Songs are ephemeral by design (deleted after six hours, expired after two days); there is nothing to recover"
        skip_check(self.bucket, "CKV_AWS_21", f"Not versioned: {ephemeral}")
        skip_check(self.bucket, "CKV_AWS_144", f"Not replicated: {ephemeral}, and both regions read this one bucket")

    @property
    def bucket(self) -> S3Bucket:
        return self.private.bucket

    @property
    def objects_arn(self) -> str:
        """ARN pattern of the songs the app may read, write and delete."""
        return f"{self.bucket.arn}/{SONGS_PREFIX}*"

    def app_statements(self) -> list[Statement]:
        """What the app does with songs: put, get and delete them, and list them for the cleaner.

        ``s3:ListBucket`` serves the cleaner's orphan sweep (ListObjectsV2) and makes
        S3 answer 404, not 403, for a song already deleted: S3 reports a missing key
        as Access Denied to a caller without ``s3:ListBucket`` on the bucket (S3 API
        reference, GetObject). It is not narrowed by an ``s3:prefix`` condition: a
        GetObject request carries no prefix, so a conditioned grant would not count.
        The bucket holds nothing but songs.
        """
        return [
            {"actions": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], "resources": [self.objects_arn]},
            {"actions": ["s3:ListBucket"], "resources": [self.bucket.arn]},
        ]
