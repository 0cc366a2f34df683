"""Run the site from the secondary region alone (`make failover`), and send users back (`make failback`).

``failover`` calls only APIs served outside the primary region, so it works
while that region is unreachable:

1. RDS in the secondary region: promote the read replica (DB_REPLICA=true
   made it) to a standalone, writable instance with the configured backup
   retention (PromoteReadReplica), and wait until it is ``available`` and no
   longer a replica. Nothing is reconfigured in the app: every task was given
   both database hosts and connects to the one that accepts writes.
2. Global Accelerator, whose API is served from us-west-2 only (Global
   Accelerator developer guide, "Endpoints"): the primary region's endpoint
   group's traffic dial to 0 %. Health checks alone would already move users
   off a dead region, but would send them back the moment its load balancer
   answered /signin again, to tasks whose own-region database is the stale,
   still writable old primary. The dial keeps them on the secondary until
   ``failback``. If us-west-2 is the region that was lost, this step fails (the
   script says so) and health checks still move users to the survivor.

``failback`` is the last step of the way back (README "Regional failure"):
it refuses unless the primary region's instance is a writer again and the
secondary's is a read replica again (split-brain guard), then restores the
primary's traffic dial to 100 %.

Configuration (regions, project name, backup retention) is the deployment's own
(config.load_config: environment, then cdktf.json's context). boto3 honours
AWS_ENDPOINT_URL, so the same commands run against the local emulator.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from config import ConfigError, DeploymentConfig, load_config

REPO = Path(__file__).resolve().parents[1]


def primary_identifier(config: DeploymentConfig) -> str:
    """constructs_lib.database.PostgresDatabase's identifier (pinned by tests/infra/test_replica.py)."""
    return f"{config.project_name}-db"


def replica_identifier(config: DeploymentConfig) -> str:
    """constructs_lib.database_replica.replica_identifier, without importing the provider bindings (~28 s)."""
    return f"{config.project_name}-db-replica"


class FailoverError(RuntimeError):
    """A step cannot be done; the message says which and what to do."""


def describe(rds: Any, identifier: str, region: str) -> dict[str, Any]:
    try:
        return rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
    except ClientError as error:
        raise FailoverError(f"cannot describe RDS instance {identifier} in {region}: {error}") from None


def is_replica(instance: dict[str, Any]) -> bool:
    return bool(instance.get("ReadReplicaSourceDBInstanceIdentifier"))


def promote_replica(
    config: DeploymentConfig, *, poll_seconds: float, timeout_seconds: float, say: Callable[[str], None]
) -> dict[str, Any]:
    """Promote the secondary's replica (if it still is one) and wait until it is an available writer."""
    region = config.secondary_region
    identifier = replica_identifier(config)
    rds = boto3.client("rds", region_name=region)
    instance = describe(rds, identifier, region)
    if is_replica(instance):
        say(f"promoting {identifier} in {region} (replica of {instance['ReadReplicaSourceDBInstanceIdentifier']})")
        try:
            rds.promote_read_replica(DBInstanceIdentifier=identifier, BackupRetentionPeriod=config.db_backup_retention_days)
        except ClientError as error:
            raise FailoverError(f"RDS refused to promote {identifier} in {region}: {error}") from None
    else:
        say(f"{identifier} in {region} is already a standalone instance")
    deadline = time.monotonic() + timeout_seconds
    while True:
        instance = describe(rds, identifier, region)
        status = instance["DBInstanceStatus"]
        if status == "available" and not is_replica(instance):
            say(f"{identifier} is available and accepts writes: {instance['Endpoint']['Address']}")
            return instance
        if time.monotonic() > deadline:
            raise FailoverError(f"{identifier} still {status!r} after {timeout_seconds:.0f} s; check the RDS console in {region}")
        say(f"waiting for {identifier}: {status}")
        time.sleep(poll_seconds)


def endpoint_groups(config: DeploymentConfig) -> tuple[Any, dict[str, list[str]]]:
    """The ARNs of the endpoint groups of the accelerator named PROJECT_NAME, by region."""
    ga = boto3.client("globalaccelerator", region_name=config.global_accelerator_region)
    accelerators = [a for a in ga.list_accelerators()["Accelerators"] if a["Name"] == config.project_name]
    if len(accelerators) != 1:
        raise FailoverError(f"expected one Global Accelerator named {config.project_name!r}, found {len(accelerators)}")
    groups: dict[str, list[str]] = {}
    for listener in ga.list_listeners(AcceleratorArn=accelerators[0]["AcceleratorArn"])["Listeners"]:
        for group in ga.list_endpoint_groups(ListenerArn=listener["ListenerArn"])["EndpointGroups"]:
            groups.setdefault(group["EndpointGroupRegion"], []).append(group["EndpointGroupArn"])
    return ga, groups


def set_traffic_dial(config: DeploymentConfig, region: str, percentage: float, say: Callable[[str], None]) -> None:
    try:
        ga, groups = endpoint_groups(config)
        if region not in groups:
            raise FailoverError(f"the accelerator has no endpoint group in {region}")
        for arn in groups[region]:
            ga.update_endpoint_group(EndpointGroupArn=arn, TrafficDialPercentage=percentage)
    except (ClientError, BotoCoreError) as error:
        raise FailoverError(
            f"Global Accelerator ({config.global_accelerator_region}) did not take the traffic dial for {region}: {error}"
        ) from None
    say(f"Global Accelerator: traffic dial of {region} set to {percentage:.0f} %")


def failover(config: DeploymentConfig, *, poll_seconds: float, timeout_seconds: float, say: Callable[[str], None]) -> int:
    promote_replica(config, poll_seconds=poll_seconds, timeout_seconds=timeout_seconds, say=say)
    try:
        set_traffic_dial(config, config.primary_region, 0, say)
    except FailoverError as error:
        say(
            f"the database failed over, but {error}. Health checks still send users to {config.secondary_region} "
            f"while {config.primary_region} is down; run `make failover` again when the Global Accelerator API answers"
        )
        return 3
    say(
        f"done: every user is sent to {config.secondary_region}; its database is the writer. Do not run `make deploy` "
        'until the way back in README "Regional failure" is done'
    )
    return 0


def failback(config: DeploymentConfig, *, say: Callable[[str], None]) -> int:
    primary = describe(boto3.client("rds", region_name=config.primary_region), primary_identifier(config), config.primary_region)
    secondary = describe(
        boto3.client("rds", region_name=config.secondary_region), replica_identifier(config), config.secondary_region
    )
    if is_replica(primary) or primary["DBInstanceStatus"] != "available":
        raise FailoverError(
            f"{primary_identifier(config)} in {config.primary_region} is not an available writer yet "
            f'({primary["DBInstanceStatus"]}); finish the way back first (README "Regional failure")'
        )
    if not is_replica(secondary):
        raise FailoverError(
            f"{replica_identifier(config)} in {config.secondary_region} still accepts writes: two writers would split the "
            'data. Re-create it as a replica first (README "Regional failure")'
        )
    set_traffic_dial(config, config.primary_region, 100, say)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("failover", "failback"))
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    parser.add_argument("--poll-seconds", type=float, default=15.0, help="how often to check the promotion (default 15)")
    parser.add_argument("--timeout-minutes", type=float, default=40.0, help="give up waiting after this (default 40)")
    args = parser.parse_args(argv)

    def say(line: str) -> None:
        print(f"{args.command}: {line}", flush=True)

    try:
        context = json.loads((REPO / "cdktf.json").read_text()).get("context", {})
        config = load_config(os.environ, context)
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    if not config.db_replica:
        print("configuration error: DB_REPLICA: must be true for a failover (there is no replica to promote)", file=sys.stderr)
        return 2
    if not args.yes:
        target = config.secondary_region if args.command == "failover" else config.primary_region
        answer = input(f"{args.command}: send every user of {config.project_name!r} to {target}? Type the project name: ")
        if answer.strip() != config.project_name:
            print(f"{args.command}: cancelled", file=sys.stderr)
            return 1
    try:
        if args.command == "failover":
            return failover(config, poll_seconds=args.poll_seconds, timeout_seconds=args.timeout_minutes * 60, say=say)
        return failback(config, say=say)
    except FailoverError as error:
        print(f"{args.command}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
