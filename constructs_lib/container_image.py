"""The app's container image: built from ``app/`` and pushed to ECR, or a configured URI."""

from __future__ import annotations

import hashlib
import re
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

# The image platform for each ECS CPU architecture: the image must match the tasks' CPU.
DOCKER_PLATFORMS = {"ARM64": "linux/arm64", "X86_64": "linux/amd64"}

# What Docker reads besides the context's files: it uses both even when .dockerignore lists them
# (Docker docs, "Build context": .dockerignore), so a change to either must change the tag too.
ALWAYS_DIGESTED = ("Dockerfile", ".dockerignore")


def _dockerignore_rules(directory: Path) -> list[tuple[bool, re.Pattern[str]]]:
    """``(excludes, pattern)`` for each line of ``directory/.dockerignore``, in order; the last match decides.

    Docker's syntax: Go's filepath.Match per path segment, plus ``**`` for any number of segments and a
    leading ``!`` for an exception; a pattern that matches a directory excludes what is under it.
    """
    ignore_file = directory / ".dockerignore"
    rules: list[tuple[bool, re.Pattern[str]]] = []
    lines = ignore_file.read_text().splitlines() if ignore_file.exists() else []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        excludes = not line.startswith("!")
        pattern = line.lstrip("!").strip().strip("/")
        segments = pattern.split("/")
        regex = ""
        for index, segment in enumerate(segments):
            last = index == len(segments) - 1
            if segment == "**":
                regex += ".*" if last else "(?:.*/)?"
            else:
                regex += "".join("[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c) for c in segment)
                regex += "" if last else "/"
        rules.append((excludes, re.compile(regex + "(?:/.*)?")))
    return rules


def context_files(directory: Path) -> list[Path]:
    """The files ``docker build directory`` sends (honouring its .dockerignore), sorted, relative."""
    rules = _dockerignore_rules(directory)
    files = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        relative = path.relative_to(directory).as_posix()
        excluded = False
        for excludes, pattern in rules:
            if pattern.fullmatch(relative):
                excluded = excludes
        if not excluded or relative in ALWAYS_DIGESTED:
            files.append(path.relative_to(directory))
    return files


def source_digest(directory: Path, *, platform: str) -> str:
    """A short digest of the build context and platform: the image tag changes exactly when the image does.

    ECR tags are immutable here, so every change of the source or of the
    platform must be a new tag, and an unchanged source must keep its tag (no
    push, no new task definition). The context is what app/.dockerignore lets
    into the image, the one list of it.
    """
    digest = hashlib.sha256(platform.encode())
    for relative in context_files(directory):
        digest.update(str(relative).encode())
        digest.update((directory / relative).read_bytes())
    return digest.hexdigest()[:16]


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
