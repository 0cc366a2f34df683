"""``app``: the container service in both regions, plus what they share (secrets, songs, image)."""

from __future__ import annotations

from pathlib import Path

from cdktf import TerraformOutput
from constructs import Construct

from config import DeploymentConfig
from constructs_lib.app_secrets import AppSecrets
from constructs_lib.container_image import ContainerImage
from constructs_lib.database import PostgresDatabase
from constructs_lib.database_replica import CrossRegionReplica
from constructs_lib.ecs_cluster import ecs_cluster
from constructs_lib.fargate_service import FargateService
from constructs_lib.iam import Statement
from constructs_lib.image_replication import replicate_image
from constructs_lib.load_balancer import ApplicationLoadBalancer
from constructs_lib.network import RegionalNetwork
from constructs_lib.ports import POSTGRES_PORT
from constructs_lib.songs_bucket import SongsBucket
from stacks.base import RemoteStateStack


class AppStack(RemoteStateStack):
    """A load-balanced Fargate service per region, all talking to the primary's database.

    Secrets, the songs bucket and the image repository exist once, in the
    primary region; the secondary's tasks use them by ARN, so an operator sets
    each secret once. With a ``replica`` (DB_REPLICA) the secondary must run
    without the primary region: its tasks read the secrets' replicas and pull
    the image's replica in their own region, and every task is given both
    database hosts, its own region's first (README "Regional failure").
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
        replica: CrossRegionReplica | None,
        app_directory: Path,
    ) -> None:
        super().__init__(scope, id, config=config)
        prefix = config.project_name
        primary_provider = self.primary_provider()
        secondary_provider = self.secondary_provider()
        replica_regions = (config.secondary_region,) if replica is not None else ()
        self.secrets = AppSecrets(
            self,
            "Secrets",
            provider=primary_provider,
            region=config.primary_region,
            name_prefix=prefix,
            recovery_window_days=config.secret_recovery_window_days,
            replica_regions=replica_regions,
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
        images = {config.primary_region: (self.image.uri, self.image.repository.arn if self.image.repository else None)}
        if replica is not None and self.image.repository is not None:
            images[config.secondary_region] = replicate_image(
                self,
                "ImageReplication",
                provider=primary_provider,
                image=self.image,
                source_region=config.primary_region,
                region=config.secondary_region,
            )
        database_hosts = [database.address] if replica is None else [database.address, replica.address]
        self.load_balancers: dict[str, ApplicationLoadBalancer] = {}
        self.services: dict[str, FargateService] = {}
        for role, region, provider, network, certificate in (
            ("primary", config.primary_region, primary_provider, primary_network, config.primary_certificate_arn),
            ("secondary", config.secondary_region, secondary_provider, secondary_network, config.secondary_certificate_arn),
        ):
            # Where this region reads its secrets and image: its own copies when
            # replicated (DB_REPLICA), else the primary's.
            read_in = region if replica is not None else config.primary_region
            app_secrets = self.secrets.arns_in(read_in)
            credentials_arn = database.credentials_secret_arn_in(read_in)
            image_uri, image_repository_arn = images.get(region, images[config.primary_region])
            # The database credentials are not injected at container start: the app
            # reads them from the secret whenever it connects, so a rotated password
            # reaches running tasks (see PostgresDatabase).
            secrets = {
                "SECRET_KEY_BASE": app_secrets["SecretKeyBase"],
                "GITHUB_CLIENT_ID": app_secrets["GithubClientId"],
                "GITHUB_CLIENT_SECRET": app_secrets["GithubClientSecret"],
            }
            task_statements: list[Statement] = [
                *self.songs.app_statements(),
                {"actions": ["secretsmanager:GetSecretValue"], "resources": [credentials_arn]},
            ]
            # Own region's host first: before a failover it is refused (a
            # replica is read-only) and the primary is used; after one, the
            # promoted replica wins even if the old primary comes back.
            hosts = database_hosts if role == "primary" else database_hosts[::-1]
            environment = {
                "APP_ENV": "production",
                "AWS_REGION": region,
                "PRIMARY_REGION": config.primary_region,
                "DB_HOST": ",".join(hosts),
                "DB_PORT": str(POSTGRES_PORT),
                "DB_NAME": database.database_name,
                "DB_SECRET_ARN": credentials_arn,
                "DB_SECRET_REGION": read_in,
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
            if config.public_profiles:
                environment["PUBLIC_PROFILES"] = "true"
            # One scope per region holds its cluster, load balancer and service:
            # the addresses they were first deployed at (app/PrimaryService/...).
            region_scope = Construct(self, f"{role.title()}Service")
            name = f"{prefix}-{role}"
            self.load_balancers[region] = ApplicationLoadBalancer(
                region_scope,
                provider=provider,
                name=name,
                network=network,
                certificate_arn=certificate,
                deletion_protection=not config.throwaway,
            )
            self.services[region] = FargateService(
                region_scope,
                provider=provider,
                name=name,
                cluster=ecs_cluster(
                    region_scope, "Cluster", provider=provider, name=name, container_insights=config.container_insights
                ),
                network=network,
                load_balancer=self.load_balancers[region],
                image_uri=image_uri,
                image_repository_arn=image_repository_arn,
                environment=environment,
                secrets=secrets,
                secret_arns=list(secrets.values()),
                task_statements=task_statements,
                cpu=config.task_cpu,
                memory=config.task_memory,
                cpu_architecture=config.cpu_architecture,
                desired_count=config.desired_count,
                autoscaling_max_count=config.max_count if config.autoscaling_enabled else None,
                log_retention_days=config.log_retention_days,
            )
            TerraformOutput(self, f"{role}_load_balancer_dns_name", value=self.load_balancers[region].dns_name)
        TerraformOutput(self, "github_client_id_secret_arn", value=self.secrets.github_client_id_arn)
        TerraformOutput(self, "github_client_secret_secret_arn", value=self.secrets.github_client_secret_arn)
