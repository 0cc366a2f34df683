"""``app``: the container service in both regions, plus what they share (secrets, songs, image)."""

from __future__ import annotations

from pathlib import Path

from cdktf import TerraformOutput
from constructs import Construct

from config import DeploymentConfig
from constructs_lib.app_secrets import AppSecrets
from constructs_lib.container_image import ContainerImage
from constructs_lib.database import PostgresDatabase
from constructs_lib.fargate_service import LoadBalancedFargateService
from constructs_lib.network import RegionalNetwork
from constructs_lib.songs_bucket import SongsBucket
from stacks.base import RemoteStateStack


class AppStack(RemoteStateStack):
    """A load-balanced Fargate service per region, all talking to the primary's database.

    Secrets, the songs bucket and the image repository exist once, in the
    primary region; the secondary's tasks use them by ARN, so an operator sets
    each secret once.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: DeploymentConfig,
        primary_network: RegionalNetwork,
        secondary_network: RegionalNetwork,
        database: PostgresDatabase,
        app_directory: Path,
    ) -> None:
        super().__init__(scope, id, config=config)
        prefix = config.project_name
        primary_provider = self.primary_provider()
        secondary_provider = self.secondary_provider()
        self.secrets = AppSecrets(
            self, "Secrets", provider=primary_provider, name_prefix=prefix, recovery_window_days=0 if config.throwaway else 7
        )
        self.songs = SongsBucket(self, "Songs", provider=primary_provider, name_prefix=prefix, force_destroy=config.throwaway)
        self.image = ContainerImage(
            self,
            "Image",
            provider=primary_provider,
            name_prefix=prefix,
            app_directory=app_directory,
            image_uri=config.app_image,
            cpu_architecture=config.cpu_architecture,
            force_delete=config.throwaway,
        )
        # The database credentials are not injected at container start: the app
        # reads them from the secret whenever it connects, so a rotated password
        # reaches running tasks (see PostgresDatabase).
        secrets = {
            "SECRET_KEY_BASE": self.secrets.secret_key_base_arn,
            "GITHUB_CLIENT_ID": self.secrets.github_client_id_arn,
            "GITHUB_CLIENT_SECRET": self.secrets.github_client_secret_arn,
        }
        task_statements = [
            *self.songs.app_statements(),
            {"actions": ["secretsmanager:GetSecretValue"], "resources": [database.credentials_secret_arn]},
        ]
        self.services: dict[str, LoadBalancedFargateService] = {}
        for role, region, provider, network, certificate in (
            ("primary", config.primary_region, primary_provider, primary_network, config.primary_certificate_arn),
            ("secondary", config.secondary_region, secondary_provider, secondary_network, config.secondary_certificate_arn),
        ):
            environment = {
                "APP_ENV": "production",
                "AWS_REGION": region,
                "PRIMARY_REGION": config.primary_region,
                "DB_HOST": database.address,
                "DB_PORT": "5432",
                "DB_NAME": database.database_name,
                "DB_SECRET_ARN": database.credentials_secret_arn,
                "DB_SECRET_REGION": config.primary_region,
                "DB_SSLMODE": "verify-full",
                # The load balancer lives in the public subnets: only its X-Forwarded-* headers count.
                "FORWARDED_ALLOW_IPS": ",".join(network.subnet_cidrs["public"]),
                "POOL_SIZE": str(config.pool_size),
                "SONGS_BUCKET": self.songs.bucket.bucket,
                "SONGS_BUCKET_REGION": config.primary_region,
                "SONGS_PREFIX": self.songs.prefix,
            }
            if config.app_hostname:
                environment["APP_HOSTNAME"] = config.app_hostname
            if config.https_enabled:
                environment["SECURE_COOKIES"] = "true"
            self.services[region] = LoadBalancedFargateService(
                self,
                f"{role.title()}Service",
                provider=provider,
                config=config,
                name=f"{prefix}-{role}",
                network=network,
                image_uri=self.image.uri,
                image_repository_arn=self.image.repository.arn if self.image.repository else None,
                environment=environment,
                secrets=secrets,
                secret_arns=list(secrets.values()),
                task_statements=task_statements,
                certificate_arn=certificate,
            )
            TerraformOutput(self, f"{role}_load_balancer_dns_name", value=self.services[region].load_balancer.dns_name)
        TerraformOutput(self, "github_client_id_secret_arn", value=self.secrets.github_client_id_arn)
        TerraformOutput(self, "github_client_secret_secret_arn", value=self.secrets.github_client_secret_arn)
