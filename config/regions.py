"""AWS regions this project can deploy to.

Commercial regions where ECS Fargate, RDS for PostgreSQL and Global Accelerator
endpoints are all available. Kept as a list (not looked up at synth) so that a typo
is caught offline, before Terraform talks to AWS.
"""

AWS_REGIONS = frozenset(
    {
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
        "ca-central-1",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "eu-central-1",
        "eu-central-2",
        "eu-north-1",
        "eu-south-1",
        "eu-south-2",
        "ap-south-1",
        "ap-south-2",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ap-east-1",
        "sa-east-1",
        "me-south-1",
        "me-central-1",
        "af-south-1",
        "il-central-1",
    }
)

# Global Accelerator is a global service whose API is served from us-west-2 only.
GLOBAL_ACCELERATOR_REGION = "us-west-2"
