"""IAM enforced: every request is authenticated and authorized, as on AWS.

moto's server checks requests itself once ``INITIAL_NO_AUTH_ACTION_COUNT``
requests have passed unchecked ("IAM-like Access Control",
https://docs.getmoto.org/en/latest/docs/iam.html); the emulator sets it to 0,
so the first request is checked too. The well-known keys ``test``/``test``
(what the scripts, the tests and Terraform use) belong to the IAM user
``emulator-admin`` of the default account, which has ``AdministratorAccess``;
any other key must be one IAM or STS issued, or the request is refused
(``InvalidClientTokenId``; ``AuthFailure`` for EC2, ``InvalidAccessKeyId`` for S3).

What moto 5.2.1 evaluates, and where that is weaker or stricter than AWS
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):

- Authentication: the SigV4 signature is recomputed with the caller's secret
  key, and an assumed role's session token must match.
- Principals: an IAM user's inline, attached and group policies; an assumed
  role's inline and attached policies. Not evaluated (weaker than AWS):
  session policies passed to AssumeRole, permissions boundaries, SCPs, and
  resource-based policies (bucket, secret and key policies) as a grant or a
  deny; nor does KMS check ``kms:Decrypt`` behind Secrets Manager or S3.
- Actions: ``service:Operation`` with ``*`` wildcards in Action and NotAction;
  an explicit Deny wins over any Allow.
- Resources: only where a service names one: S3 (``arn:aws:s3:::bucket`` for
  bucket operations, ``.../key`` for object operations), SQS queues, IAM roles,
  and ``sts:AssumeRole`` (the role); this module adds Secrets Manager (the
  secret's ARN) and CloudWatch Logs (:func:`logs_resource`). Every other
  operation is checked against the resource ``*``, so there a statement that
  names a resource grants nothing (stricter than AWS: grant ``*`` there, as AWS
  requires for most Describe/List operations anyway). ``*`` is the only
  wildcard (``?`` is not).
- Conditions: not evaluated: a statement with a Condition applies as if it
  held (weaker than AWS), except ``StringEquals`` on ``sts:ExternalId`` in trust
  policies.
- Errors: ``AccessDenied`` (EC2 too, where AWS says ``UnauthorizedOperation``);
  JSON-protocol services answer in JSON (:func:`json_authorization_errors`).
- Trust policies: ``sts:AssumeRole`` also needs the role's trust policy to name
  the caller (its ARN, its account's root, or ``*``) as an ``AWS`` principal. The
  administrator may assume any role, standing in for the AWS service that the
  role trusts (ECS for a task role): that is how the tests get a deployed task
  role's credentials, which on AWS only ECS could.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from botocore.awsrequest import AWSRequest
from moto import settings
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.responses import BaseResponse
from moto.iam.access_control import IAMPolicyStatement, IAMRequestBase, S3IAMRequest
from moto.iam.models import iam_backends
from moto.logs.responses import LogsResponse
from moto.s3.exceptions import MissingKey, S3AccessDeniedError
from moto.s3.responses import S3Response
from moto.secretsmanager.responses import SecretsManagerResponse
from moto.utilities.utils import get_partition

from emulator.fidelity import wrap

ADMIN_USER = "emulator-admin"
ADMIN_ACCESS_KEY_ID = "test"
ADMIN_SECRET_ACCESS_KEY = "test"
ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"


def enforced() -> bool:
    """Whether moto checks this request (it does from the first, once :func:`install` ran)."""
    return ActionAuthenticatorMixin.request_count >= settings.INITIAL_NO_AUTH_ACTION_COUNT


def create_administrator() -> None:
    """The IAM user ``emulator-admin`` with AdministratorAccess and the keys test/test."""
    backend = iam_backends[DEFAULT_ACCOUNT_ID]["aws"]
    backend.create_user(region_name="us-east-1", user_name=ADMIN_USER)
    key = backend.create_access_key(ADMIN_USER)
    del backend.access_keys[key.physical_resource_id]
    key.access_key_id = ADMIN_ACCESS_KEY_ID
    key.secret_access_key = ADMIN_SECRET_ACCESS_KEY
    backend.access_keys[key.physical_resource_id] = key
    backend.attach_user_policy(ADMINISTRATOR_ACCESS, ADMIN_USER)


def is_administrator(request: IAMRequestBase) -> bool:
    return request._access_key.arn == f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:user/{ADMIN_USER}"


def check_role_trust_relationship(self: IAMRequestBase, original: Any, role_arn: str) -> bool:
    """AssumeRole: the administrator plays the AWS services; anyone else needs the trust policy."""
    return is_administrator(self) or original(self, role_arn)


def check_principal(self: IAMPolicyStatement, principal: str) -> bool:
    """Whether a trust statement's ``Principal`` names the caller (an IAM user or assumed role).

    "AWS": an ARN, a list of them, ``*``, an account id or its root ARN
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html).
    Service and federated principals never match an IAM caller; moto failed on
    them (a trust policy without "AWS" raised a TypeError).
    """
    expected = (self._statement.get("Principal") or {}).get("AWS")
    if expected is None:
        return False
    names = [expected] if isinstance(expected, str) else list(expected)
    account_id = principal.split(":")[4]
    return any(name in ("*", principal, account_id, f"arn:aws:iam::{account_id}:root") for name in names)


def secrets_manager_resource(self: SecretsManagerResponse) -> str:
    """The secret's ARN (the ``SecretId`` may be its name, ARN or partial ARN), or ``*``."""
    secret_id = self._get_param("SecretId")
    if not secret_id:
        return "*"
    secret = self.backend.secrets.get(secret_id)
    if secret is not None:
        return secret.arn
    if secret_id.startswith("arn:"):
        return secret_id
    return f"arn:aws:secretsmanager:{self.region}:{self.current_account}:secret:{secret_id}"


def logs_resource(self: LogsResponse) -> str:
    """The log stream's ARN for stream operations, else the log group's ``...:log-group:NAME:*``.

    "Use the second version, with the trailing :*, to refer to the ARN when
    specifying permissions in IAM policies for all other API actions";
    a log stream is ``...:log-group:NAME:log-stream:STREAM``
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/iam-access-control-overview-cwl.html).
    """
    group = self._get_param("logGroupName")
    if not group:
        return "*"
    group_arn = f"arn:aws:logs:{self.region}:{self.current_account}:log-group:{group}"
    stream = self._get_param("logStreamName")
    return f"{group_arn}:log-stream:{stream}" if stream else f"{group_arn}:*"


def may_list_bucket(response: Any, bucket_name: str) -> bool:
    """Whether the caller of this S3 request may ``s3:ListBucket`` on the bucket."""
    request = S3IAMRequest(
        account_id=response.current_account,
        method=response.method,
        path=response.path,
        data={"BucketName": bucket_name},
        body=response.raw_body,
        headers=response.headers,
        action="ListBucket",
    )
    try:
        request.check_action_permitted(f"arn:{get_partition(response.region)}:s3:::{bucket_name}")
    except Exception:  # noqa: BLE001 - moto raises its service's AccessDenied error, an HTTPException
        return False
    return True


# moto's query-protocol error codes and what JSON-protocol services answer instead
# (the common errors of the AWS JSON protocols, e.g. the Secrets Manager API
# reference's "Common Errors").
JSON_ERROR_CODES = {
    "AccessDenied": "AccessDeniedException",
    "InvalidClientTokenId": "UnrecognizedClientException",
    "SignatureDoesNotMatch": "InvalidSignatureException",
}


def json_authorization_errors(self: BaseResponse, original: Any) -> Any:
    """Authentication and authorization errors of JSON-protocol services in their JSON form.

    moto answered them for every service in the XML form of the query
    protocol, which JSON-protocol clients (Secrets Manager, CloudWatch Logs)
    read as a bare status code; AWS answers e.g. ``AccessDeniedException``.
    """
    status, headers, body = original(self)
    is_json_protocol = self.headers.get("X-Amz-Target") is not None
    if status in (401, 403) and is_json_protocol and isinstance(body, str) and body.startswith("<"):
        code = body.split("<Code>", 1)[-1].split("</Code>", 1)[0]
        code = JSON_ERROR_CODES.get(code, code)
        message = body.split("<Message>", 1)[-1].split("</Message>", 1)[0]
        headers = {**headers, "x-amzn-ErrorType": code, "Content-Type": "application/x-amz-json-1.1"}
        body = json.dumps({"__type": code, "message": message})
    return status, headers, body


def object_missing_as_access_denied(self: S3Response, original: Any, *args: Any, **kwargs: Any) -> Any:
    """GetObject/HeadObject of a missing key: 404 only to a caller who may list the bucket.

    "If you don't have the s3:ListBucket permission, Amazon S3 returns an HTTP
    status code 403 Forbidden (access denied) error"; with it, 404 Not Found
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html,
    API_HeadObject.html). moto always answered 404.
    """
    try:
        result = original(self, *args, **kwargs)
    except MissingKey:
        if enforced() and not may_list_bucket(self, self.bucket_name):
            raise S3AccessDeniedError() from None
        raise
    if result[0] == 404 and enforced() and not may_list_bucket(self, self.bucket_name):
        return 403, result[1], ""
    return result


def canonical_query_request(self: IAMRequestBase, original: Any) -> AWSRequest:
    """The request whose signature moto recomputes, with its query (and an S3 path) in canonical form.

    SigV4 signs each query parameter's name and value URI-encoded once, with
    only ``A-Za-z0-9-_.~`` left as they are, and S3 signs the path encoded once
    in the same way, ``/`` kept
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html).
    moto handed botocore the URL as it arrived, and botocore uses such a URL as
    it is: a request from the Go SDK (Terraform's), which encodes ``:`` and
    ``/`` in a query (``prefix=env%3A%2F``), failed with SignatureDoesNotMatch,
    as did S3 keys with characters such as ``+`` or a space.
    """
    request = original(self)
    url = urlsplit(request.url)
    pairs = [pair.partition("=") for pair in url.query.split("&")] if url.query else []
    query = "&".join(f"{quote(unquote(key), safe='-_.~')}={quote(unquote(value), safe='-_.~')}" for key, _, value in pairs)
    path = quote(unquote(url.path), safe="/-_.~") if isinstance(self, S3IAMRequest) else url.path
    request.url = urlunsplit(url._replace(path=path, query=query))
    return request


def install() -> None:
    """Check every request from the first on; create the administrator first."""
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    create_administrator()
    wrap(IAMRequestBase, "_create_aws_request", canonical_query_request)
    wrap(IAMRequestBase, "_check_role_trust_relationship", check_role_trust_relationship)
    IAMPolicyStatement._check_principal = check_principal
    SecretsManagerResponse._determine_resource = secrets_manager_resource
    LogsResponse._determine_resource = logs_resource
    wrap(S3Response, "get_object", object_missing_as_access_denied)
    wrap(S3Response, "head_object", object_missing_as_access_denied)
    wrap(BaseResponse, "call_action", json_authorization_errors)
