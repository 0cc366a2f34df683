"""Remote state: every stack keeps its state in the S3 state bucket, ``bootstrap`` too once the bucket exists."""

from __future__ import annotations

from cdktf import S3Backend, TerraformStack


def use_s3_backend(
    stack: TerraformStack, *, bucket: str, region: str, project_name: str, stack_name: str, use_path_style: bool
) -> S3Backend:
    """One key per stack, encrypted, locked by Terraform's native S3 lock file (Terraform >= 1.10).

    cdktf 0.21's ``S3Backend`` has no ``use_lockfile`` argument, so it is set as an
    override. Path-style addressing is a real argument: it must also reach the
    remote-state reads cdktf generates for cross-stack references.
    """
    backend = S3Backend(
        stack,
        bucket=bucket,
        key=f"{project_name}/{stack_name}.tfstate",
        region=region,
        encrypt=True,
        use_path_style=use_path_style or None,
    )
    stack.add_override("terraform.backend.s3.use_lockfile", True)
    return backend
