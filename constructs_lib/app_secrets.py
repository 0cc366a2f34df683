"""The app's secrets, created once in the primary region and read by ARN from both.

No secret value is ever written into the synthesized Terraform or its state:
``SECRET_KEY_BASE`` comes from an *ephemeral* Secrets Manager random password
handed to a *write-only* argument (Terraform >= 1.11), and the GitHub OAuth
credentials start as the literal placeholder ``placeholder`` (the app shows
"sign-in is not configured yet" until the operator puts the real values in).
Write-only values are sent once, at version 1: a later deploy never overwrites
what the operator set.
"""

from __future__ import annotations

from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from cdktf_cdktf_provider_aws.secretsmanager_secret_version import SecretsmanagerSecretVersion
from constructs import Construct

from constructs_lib.policy_checks import skip_check

PLACEHOLDER = "placeholder"
_KEY_BASE_PASSWORD = "secret_key_base"


class AppSecrets(Construct):
    """SECRET_KEY_BASE and the GitHub OAuth client id and secret, as Secrets Manager secrets."""

    def __init__(self, scope: Construct, id: str, *, provider: AwsProvider, name_prefix: str, recovery_window_days: int) -> None:
        super().__init__(scope, id)
        stack = TerraformStack.of(self)
        # cdktf 0.21 has no class for ephemeral resources; the block is added to the
        # synthesized JSON directly and referenced by its Terraform address.
        stack.add_override(
            f"ephemeral.aws_secretsmanager_random_password.{_KEY_BASE_PASSWORD}",
            {
                "provider": f"aws.{provider.alias}",
                "password_length": 64,
                "exclude_punctuation": True,
            },
        )
        values = {
            "SecretKeyBase": ("secret-key-base", f"${{ephemeral.aws_secretsmanager_random_password.{_KEY_BASE_PASSWORD}.random_password}}"),
            "GithubClientId": ("github-client-id", PLACEHOLDER),
            "GithubClientSecret": ("github-client-secret", PLACEHOLDER),
        }
        self.arns: dict[str, str] = {}
        for construct_id, (suffix, value) in values.items():
            secret = SecretsmanagerSecret(
                self,
                construct_id,
                provider=provider,
                name=f"{name_prefix}/{suffix}",
                description=f"Live Beats {suffix}; set by the operator after the first deploy"
                if value == PLACEHOLDER
                else f"Live Beats {suffix}; generated at the first deploy",
                recovery_window_in_days=recovery_window_days,
            )
            skip_check(
                secret,
                "CKV_AWS_149",
                "Encrypted with the AWS-managed key aws/secretsmanager; read only by this account's execution roles, "
                "by ARN. A customer-managed key is needed for cross-account access, which nothing here uses",
            )
            skip_check(
                secret,
                "CKV2_AWS_57",
                "Issued by GitHub: the operator rotates the OAuth credentials there and puts the new value here"
                if value == PLACEHOLDER
                else "Rotating SECRET_KEY_BASE signs every user out and would need a rotation Lambda; the operator "
                "rotates it by hand (put-secret-value, then a new deployment) when needed",
            )
            SecretsmanagerSecretVersion(
                self,
                f"{construct_id}Value",
                provider=provider,
                secret_id=secret.id,
                secret_string_wo=value,
                secret_string_wo_version=1,
            )
            self.arns[construct_id] = secret.arn

    @property
    def secret_key_base_arn(self) -> str:
        return self.arns["SecretKeyBase"]

    @property
    def github_client_id_arn(self) -> str:
        return self.arns["GithubClientId"]

    @property
    def github_client_secret_arn(self) -> str:
        return self.arns["GithubClientSecret"]
