"""What a month of use looks like: the bill's only input besides the Terraform and the prices.

Two months are priced: ``IDLE`` (deployed, nobody using it: health checks,
heartbeats and background scans only) and ``STATED_LOAD`` (a small but real
site). Every figure is an assumption, printed with the bill; change them here.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True, kw_only=True)
class Usage:
    name: str
    requests: int
    """HTTP requests a month, both regions together."""
    gb_out: float
    """GB a month served to users (pages and songs), both regions, through the accelerator."""
    open_pages: int
    """Pages open at once (one WebSocket each), both regions together."""
    app_log_gb_per_task: float
    """Application log GB a month written by each running task."""
    container_insights_log_gb_per_task: float
    """Container Insights performance events (GB a month) per running task."""
    flow_log_gb_per_vpc: float
    """VPC flow-log records (GB a month) per VPC, all traffic types."""
    database_log_gb: float
    """PostgreSQL and upgrade logs (GB a month) exported by RDS."""
    stored_gb_per_bucket: float
    """GB kept in each S3 bucket."""
    s3_puts: int
    """S3 PUT/LIST requests a month per bucket."""
    s3_gets: int
    """S3 GET requests a month per bucket."""
    inter_region_gb: float
    """GB a month between the regions: the secondary's database traffic and songs read from the primary's bucket."""
    nat_gb_per_gateway: float
    """GB a month through each NAT gateway (image pulls, AWS APIs, GitHub)."""
    image_gb: float
    """GB of images kept in the ECR repository (the lifecycle policy keeps 20)."""
    secret_reads: int
    """Secrets Manager API calls a month (tasks read their secrets when they start)."""

    def describe(self) -> list[tuple[str, str]]:
        """(assumption, value) pairs for the printed bill."""
        return [(f.name, f"{getattr(self, f.name):,}") for f in fields(self) if f.name != "name"]


IDLE = Usage(
    name="idle",
    requests=0,
    gb_out=0.0,
    open_pages=0,
    app_log_gb_per_task=0.05,
    container_insights_log_gb_per_task=0.05,
    flow_log_gb_per_vpc=0.3,
    database_log_gb=0.02,
    stored_gb_per_bucket=0.05,
    s3_puts=100,
    s3_gets=1_000,
    inter_region_gb=0.3,
    nat_gb_per_gateway=1.0,
    image_gb=0.5,
    secret_reads=200,
)

STATED_LOAD = Usage(
    name="stated load",
    requests=1_000_000,
    gb_out=150.0,
    open_pages=100,
    app_log_gb_per_task=1.0,
    container_insights_log_gb_per_task=0.05,
    flow_log_gb_per_vpc=2.0,
    database_log_gb=0.2,
    stored_gb_per_bucket=10.0,
    s3_puts=5_000,
    s3_gets=100_000,
    inter_region_gb=40.0,
    nat_gb_per_gateway=5.0,
    image_gb=2.0,
    secret_reads=1_000,
)
