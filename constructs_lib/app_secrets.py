"""The app's secrets, created once in the primary region and read by ARN from both (or, with
DB_REPLICA, replicated to the secondary and read there from its own region).

No secret value is ever written into the synthesized Terraform or its state:
``SECRET_KEY_BASE`` comes from an *ephemeral* Secrets Manager random password
handed to a *write-only* argument (Terraform >= 1.11), and the GitHub OAuth
credentials start as the literal placeholder ``placeholder`` (the app shows
"sign-in is not configured yet" until the operator puts the real values in).
Each is a write-once secret (:mod:`constructs_lib.write_once_secret`): a later
deploy never overwrites what the operator set.
"""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from constructs_lib.write_once_secret import ephemeral_password, replica_arn, write_once_secret

PLACEHOLDER = "placeholder"
_OPERATOR_ROTATES_GITHUB = "Issued by GitHub: the operator rotates the OAuth credentials there and puts the new value here"


class AppSecrets(Construct):
    """SECRET_KEY_BASE and the GitHub OAuth client id and secret, as Secrets Manager secrets."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        provider: AwsProvider,
        region: str,
        name_prefix: str,
        recovery_window_days: int,
        replica_regions: Sequence[str] = (),
    ) -> None:
        """region: the provider's; replica_regions: where each secret is also kept (DB_REPLICA's secondary)."""
        super().__init__(scope, id)
        self._region = region
        self._replica_regions = tuple(replica_regions)
        key_base = ephemeral_password(self, "secret_key_base", provider=provider, length=64)
        values = {
            "SecretKeyBase": (
                "secret-key-base",
                f"${{{key_base}}}",
                "generated at the first deploy",
                "Rotating SECRET_KEY_BASE signs every user out and would need a rotation Lambda; the operator "
                "rotates it by hand (put-secret-value, then a new deployment) when needed",
            ),
            "GithubClientId": (
                "github-client-id",
                PLACEHOLDER,
                "set by the operator after the first deploy",
                _OPERATOR_ROTATES_GITHUB,
            ),
            "GithubClientSecret": (
                "github-client-secret",
                PLACEHOLDER,
                "set by the operator after the first deploy",
                _OPERATOR_ROTATES_GITHUB,
            ),
        }
        self.arns: dict[str, str] = {}
        for construct_id, (suffix, value, origin, rotation) in values.items():
            secret = write_once_secret(
                self,
                construct_id,
                provider=provider,
                name_prefix=f"{name_prefix}/{suffix}-",
                description=f"Live Beats {suffix}; {origin}",
                initial_value=value,
                recovery_window_days=recovery_window_days,
                rotation_note=rotation,
                replica_regions=replica_regions,
            )
            self.arns[construct_id] = secret.arn

    def arns_in(self, region: str) -> dict[str, str]:
        """The three secrets' ARNs as read in ``region``: the secrets themselves, or their replicas there."""
        if region == self._region:
            return dict(self.arns)
        if region not in self._replica_regions:
            raise ValueError(f"the app secrets are not replicated to {region} (replicas: {self._replica_regions or 'none'})")
        return {key: replica_arn(arn, source_region=self._region, region=region) for key, arn in self.arns.items()}

    @property
    def secret_key_base_arn(self) -> str:
        return self.arns["SecretKeyBase"]

    @property
    def github_client_id_arn(self) -> str:
        return self.arns["GithubClientId"]

    @property
    def github_client_secret_arn(self) -> str:
        return self.arns["GithubClientSecret"]
