"""Secrets Manager staging labels and version removal, as AWS handles them.

A secret's versions are kept only while a staging label points at them:
"Secrets Manager removes outdated versions when there are more than 100, but it
does not remove versions created less than 24 hours ago" and "A version that
does not have any staging labels attached is considered deprecated and subject
to deletion by Secrets Manager"
(https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html,
https://docs.aws.amazon.com/secretsmanager/latest/userguide/whats-in-a-secret.html).
The emulator is stricter, so that a deployment depending on an unlabeled
version fails at once rather than some day: it removes every unlabeled
version as soon as PutSecretValue or UpdateSecretVersionStage leaves one.
moto kept every version forever.

Moving ``AWSCURRENT`` moves ``AWSPREVIOUS`` to the version it left, and only
those two labels: "If this operation moves the staging label AWSCURRENT from
another version to this version, then Secrets Manager also automatically moves
the staging label AWSPREVIOUS to the version that AWSCURRENT was removed from"
(API_PutSecretValue). moto replaced all of the old current version's labels by
``AWSPREVIOUS``, so a custom label an operator or Terraform put on it was lost.
"""

from __future__ import annotations

from typing import Any

from moto.secretsmanager.models import FakeSecret, SecretsManagerBackend

from emulator.fidelity import wrap

CURRENT = "AWSCURRENT"
PREVIOUS = "AWSPREVIOUS"


def reset_default_version(self: FakeSecret, secret_version: dict[str, Any], version_id: str) -> None:
    """The new version becomes AWSCURRENT; the old current one becomes AWSPREVIOUS, keeping its other labels."""
    for version in self.versions.values():
        if PREVIOUS in version["version_stages"]:
            version["version_stages"].remove(PREVIOUS)
    if self.default_version_id:
        stages = self.versions[self.default_version_id]["version_stages"]
        stages[:] = [stage for stage in stages if stage != CURRENT] + [PREVIOUS]
    self.versions[version_id] = secret_version
    self.default_version_id = version_id


def remove_unlabeled_versions(backend: SecretsManagerBackend, secret_id: str) -> None:
    secret = backend.secrets[secret_id]
    for version_id in [v for v, version in secret.versions.items() if not version["version_stages"]]:
        del secret.versions[version_id]


def removing_unlabeled_versions(self: SecretsManagerBackend, original: Any, secret_id: str, *args: Any, **kwargs: Any) -> Any:
    """Run the operation, then remove the versions it left without a staging label."""
    result = original(self, secret_id, *args, **kwargs)
    remove_unlabeled_versions(self, secret_id)
    return result


def install() -> None:
    FakeSecret.reset_default_version = reset_default_version
    wrap(SecretsManagerBackend, "put_secret_value", removing_unlabeled_versions)
    wrap(SecretsManagerBackend, "update_secret_version_stage", removing_unlabeled_versions)
