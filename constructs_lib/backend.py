"""Remote state: every stack but ``bootstrap`` keeps its state in the S3 state bucket."""

from __future__ import annotations

from cdktf import S3Backend, TerraformStack

from config import DeploymentConfig


def use_s3_backend(stack: TerraformStack, *, config: DeploymentConfig, stack_name: str) -> S3Backend:
    """One key per stack, encrypted, locked by Terraform's native S3 lock file (Terraform >= 1.10).

    cdktf 0.21's ``S3Backend`` has no ``use_lockfile`` argument, so it is set as an
    override. Path-style addressing is a real argument: it must also reach the
    remote-state reads cdktf generates for cross-stack references.
    """
    backend = S3Backend(
        stack,
        bucket=config.state_bucket,
        key=f"{config.project_name}/{stack_name}.tfstate",
        region=config.primary_region,
        encrypt=True,
        use_path_style=config.s3_use_path_style or None,
    )
    stack.add_override("terraform.backend.s3.use_lockfile", True)
    return backend
