"""The app's container image: built from ``app/`` and pushed to ECR, or a configured URI."""

from __future__ import annotations

from pathlib import Path

from cdktf import Fn
from cdktf_cdktf_provider_aws.data_aws_ecr_authorization_token import DataAwsEcrAuthorizationToken
from cdktf_cdktf_provider_aws.ecr_lifecycle_policy import EcrLifecyclePolicy
from cdktf_cdktf_provider_aws.ecr_repository import (
    EcrRepository,
    EcrRepositoryEncryptionConfiguration,
    EcrRepositoryImageScanningConfiguration,
)
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_docker.image import Image, ImageBuild
from cdktf_cdktf_provider_docker.provider import DockerProvider, DockerProviderRegistryAuth
from cdktf_cdktf_provider_docker.registry_image import RegistryImage
from constructs import Construct

from constructs_lib.build_context import source_digest

# The image platform for each ECS CPU architecture: the image must match the tasks' CPU.
DOCKER_PLATFORMS = {"ARM64": "linux/arm64", "X86_64": "linux/amd64"}


class ContainerImage(Construct):
    """Where the tasks' image comes from.

    With ``image_uri`` set nothing is built and the docker provider is not even
    declared, so a deployment from CI (which pushes its own images) needs no
    Docker engine. Otherwise the image is built from ``app/`` with the docker
    provider and pushed to one ECR repository in the primary region, which the
    tasks of both regions pull from.

    The image is built for the tasks' ``cpu_architecture`` (CPU_ARCHITECTURE,
    ARM64 by default: Graviton Fargate costs about 20% less). Building linux/arm64
    on an x86 machine needs Docker's QEMU emulation (Docker Desktop has it; on
    Linux, ``docker run --privileged --rm tonistiigi/binfmt --install arm64``),
    or set CPU_ARCHITECTURE=X86_64.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        provider: AwsProvider,
        name_prefix: str,
        app_directory: Path,
        image_uri: str | None,
        cpu_architecture: str,
        force_delete: bool,
    ) -> None:
        super().__init__(scope, id)
        self.repository: EcrRepository | None = None
        if image_uri is not None:
            self.uri = image_uri
            return
        self.repository = EcrRepository(
            self,
            "Repository",
            provider=provider,
            name=f"{name_prefix}/app",
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=EcrRepositoryImageScanningConfiguration(scan_on_push=True),
            # KMS with the AWS-managed aws/ecr key: encrypted by KMS without a key to administer.
            encryption_configuration=[EcrRepositoryEncryptionConfiguration(encryption_type="KMS")],
            force_delete=force_delete,
        )
        EcrLifecyclePolicy(
            self,
            "KeepRecentImages",
            provider=provider,
            repository=self.repository.name,
            policy=Fn.jsonencode(
                {
                    "rules": [
                        {
                            "rulePriority": 1,
                            "description": "Keep the 20 most recent images",
                            "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 20},
                            "action": {"type": "expire"},
                        }
                    ]
                }
            ),
        )
        token = DataAwsEcrAuthorizationToken(self, "RegistryToken", provider=provider, registry_id=self.repository.registry_id)
        docker = DockerProvider(
            self,
            "Docker",
            registry_auth=[
                DockerProviderRegistryAuth(address=token.proxy_endpoint, username=token.user_name, password=token.password)
            ],
        )
        platform = DOCKER_PLATFORMS[cpu_architecture]
        tag = source_digest(app_directory, platform=platform)
        image = Image(
            self,
            "Build",
            provider=docker,
            name=f"{self.repository.repository_url}:{tag}",
            build_attribute=ImageBuild(context=str(app_directory), platform=platform),
            platform=platform,
            triggers={"source": tag},
        )
        pushed = RegistryImage(self, "Push", provider=docker, name=image.name, keep_remotely=True, triggers={"source": tag})
        self.uri = pushed.name
