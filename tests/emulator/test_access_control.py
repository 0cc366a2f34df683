"""IAM enforced: unknown keys are refused, an assumed role may do exactly what its policies allow."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

REGION = "eu-west-2"
ACCOUNT = "123456789012"


def error_code(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as error:
        call()
    return error.value.response["Error"]["Code"]


def trust(principal: dict[str, str]) -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]}
    )


def make_role(client: Callable[..., Any], statements: list[dict[str, Any]], principal: dict[str, str] | None = None) -> str:
    """A role trusting ECS tasks (or ``principal``), with one inline policy of ``statements`` if any."""
    iam = client("iam", REGION)
    name = f"role-{uuid.uuid4().hex[:8]}"
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust(principal or {"Service": "ecs-tasks.amazonaws.com"}))[
        "Role"
    ]["Arn"]
    if statements:
        document = json.dumps({"Version": "2012-10-17", "Statement": statements})
        iam.put_role_policy(RoleName=name, PolicyName="permissions", PolicyDocument=document)
    return arn


def assume(client: Callable[..., Any], role_arn: str, credentials: dict[str, str] | None = None) -> dict[str, str]:
    return client("sts", REGION, credentials).assume_role(RoleArn=role_arn, RoleSessionName="test")["Credentials"]


def make_bucket(client: Callable[..., Any]) -> str:
    name = f"bucket-{uuid.uuid4().hex[:12]}"
    client("s3", REGION).create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    return name


UNKNOWN = {"AccessKeyId": "AKIAUNKNOWNKEY000000", "SecretAccessKey": "wrong"}


@pytest.mark.parametrize(
    ("service", "region", "call", "code"),
    [
        ("sts", REGION, lambda c: c.get_caller_identity(), "InvalidClientTokenId"),
        ("s3", REGION, lambda c: c.list_buckets(), "InvalidAccessKeyId"),
        ("ec2", REGION, lambda c: c.describe_vpcs(), "AuthFailure"),
        ("secretsmanager", REGION, lambda c: c.list_secrets(), "UnrecognizedClientException"),
        ("globalaccelerator", "us-west-2", lambda c: c.list_accelerators(), "InvalidClientTokenId"),
    ],
)
def test_unknown_keys_are_refused(client: Callable[..., Any], service: str, region: str, call: Any, code: str) -> None:
    assert error_code(lambda: call(client(service, region, UNKNOWN))) == code


def test_a_wrong_secret_key_is_refused(client: Callable[..., Any]) -> None:
    wrong_secret = {"AccessKeyId": "test", "SecretAccessKey": "not-test"}
    assert error_code(lambda: client("iam", REGION, wrong_secret).list_roles()) == "SignatureDoesNotMatch"


def test_the_well_known_keys_are_the_administrator(client: Callable[..., Any]) -> None:
    iam = client("iam", REGION)
    attached = iam.list_attached_user_policies(UserName="emulator-admin")["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["AdministratorAccess"]
    assert iam.list_roles()["Roles"] is not None


def test_an_assumed_role_may_do_exactly_what_its_policies_allow(client: Callable[..., Any]) -> None:
    bucket, other_bucket = make_bucket(client), make_bucket(client)
    secrets = client("secretsmanager", REGION)
    secret = secrets.create_secret(Name=f"allowed-{uuid.uuid4().hex[:6]}", SecretString="s3cr3t")["ARN"]
    other_secret = secrets.create_secret(Name=f"other-{uuid.uuid4().hex[:6]}", SecretString="no")["ARN"]
    group = f"/ecs/{uuid.uuid4().hex[:6]}"
    client("logs", REGION).create_log_group(logGroupName=group)
    role = make_role(
        client,
        [
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": f"arn:aws:s3:::{bucket}/*"},
            {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret},
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}:*",
            },
        ],
    )
    credentials = assume(client, role)
    assert client("sts", REGION, credentials).get_caller_identity()["Arn"] == (
        f"arn:aws:sts::{ACCOUNT}:assumed-role/{role.split('/')[-1]}/test"
    )

    s3 = client("s3", REGION, credentials)
    s3.put_object(Bucket=bucket, Key="song.mp3", Body=b"la")
    assert s3.get_object(Bucket=bucket, Key="song.mp3")["Body"].read() == b"la"
    assert client("secretsmanager", REGION, credentials).get_secret_value(SecretId=secret)["SecretString"] == "s3cr3t"
    logs = client("logs", REGION, credentials)
    logs.create_log_stream(logGroupName=group, logStreamName="app/1")
    logs.put_log_events(logGroupName=group, logStreamName="app/1", logEvents=[{"timestamp": 1, "message": "hi"}])

    assert error_code(lambda: s3.put_object(Bucket=other_bucket, Key="x", Body=b"x")) == "AccessDenied"
    assert error_code(lambda: s3.list_objects_v2(Bucket=bucket)) == "AccessDenied"
    assert error_code(lambda: s3.delete_object(Bucket=bucket, Key="song.mp3")) == "AccessDenied"
    secrets_as_role = client("secretsmanager", REGION, credentials)
    assert error_code(lambda: secrets_as_role.get_secret_value(SecretId=other_secret)) == "AccessDeniedException"
    assert error_code(lambda: logs.create_log_group(logGroupName="/ecs/another")) == "AccessDeniedException"
    # AWS's EC2 says UnauthorizedOperation; moto says AccessDenied (emulator.access_control).
    assert error_code(lambda: client("ec2", REGION, credentials).describe_vpcs()) == "AccessDenied"
    assert error_code(lambda: client("iam", REGION, credentials).list_roles()) == "AccessDenied"


def test_assuming_a_role_needs_its_trust_policy_to_name_the_caller(client: Callable[..., Any]) -> None:
    caller = make_role(client, [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}])
    credentials = assume(client, caller)
    service_only = make_role(client, [])
    account_trusted = make_role(client, [], principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"})

    assert error_code(lambda: assume(client, service_only, credentials)) == "AccessDenied"
    assert assume(client, account_trusted, credentials)["AccessKeyId"]


def test_a_missing_object_is_access_denied_without_list_bucket(client: Callable[..., Any]) -> None:
    """S3 API reference, GetObject/HeadObject: 404 needs s3:ListBucket, else 403."""
    bucket = make_bucket(client)
    objects = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
    listing = {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}"}
    without_list = client("s3", REGION, assume(client, make_role(client, [objects])))
    with_list = client("s3", REGION, assume(client, make_role(client, [objects, listing])))

    assert error_code(lambda: without_list.get_object(Bucket=bucket, Key="gone.mp3")) == "AccessDenied"
    assert error_code(lambda: without_list.head_object(Bucket=bucket, Key="gone.mp3")) == "403"
    assert error_code(lambda: with_list.get_object(Bucket=bucket, Key="gone.mp3")) == "NoSuchKey"
    assert error_code(lambda: with_list.head_object(Bucket=bucket, Key="gone.mp3")) == "404"


@pytest.mark.parametrize("key", ["env:/foundation/terraform.tfstate", "songs/a b+c=d.mp3"])
def test_signatures_of_encoded_queries_and_keys_are_accepted(client: Callable[..., Any], key: str) -> None:
    """Terraform's S3 backend lists ``prefix=env:/`` (sent as ``env%3A%2F``); keys may hold any character."""
    bucket = make_bucket(client)
    s3 = client("s3", REGION)
    s3.put_object(Bucket=bucket, Key=key, Body=b"state")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=key.split("/")[0] + "/")["Contents"]] == [key]
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"state"
