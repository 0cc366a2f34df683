"""Application Auto Scaling tagging, which moto 5.2.1 lacks.

The Terraform AWS provider reads a scalable target's tags with
ListTagsForResource after every RegisterScalableTarget; moto answers with an
error the provider retries, so ``aws_appautoscaling_target`` never finishes.
This adds the three tagging operations and the ``Tags`` parameter of
RegisterScalableTarget, as the API reference describes them:
https://docs.aws.amazon.com/autoscaling/application/APIReference/API_TagResource.html
"""

from __future__ import annotations

import json

from moto.applicationautoscaling.exceptions import AWSValidationException
from moto.applicationautoscaling.models import ApplicationAutoscalingBackend, FakeScalableTarget
from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse
from moto.core.exceptions import JsonRESTError

MAX_TAGS = 50


class ResourceNotFoundException(JsonRESTError):
    def __init__(self, arn: str) -> None:
        super().__init__("ResourceNotFoundException", f"No scalable target found for ARN: {arn}")


def find_target(backend: ApplicationAutoscalingBackend, arn: str) -> FakeScalableTarget:
    """Tags belong to scalable targets, named by their ScalableTargetARN."""
    for targets in backend.targets.values():
        for target in targets.values():
            if target.arn == arn:
                return target
    raise ResourceNotFoundException(arn)


def target_tags(target: FakeScalableTarget) -> dict[str, str]:
    if not hasattr(target, "tags"):
        target.tags = {}
    return target.tags


def checked_tags(current: dict[str, str], new: dict[str, str]) -> dict[str, str]:
    """TagResource: keys 1-128 characters, values 0-256, at most 50 tags a resource."""
    for key, value in new.items():
        if not 1 <= len(key) <= 128 or len(value) > 256:
            raise AWSValidationException(f"Tag {key!r} is not valid: keys are 1-128 characters, values 0-256.")
    merged = {**current, **new}
    if len(merged) > MAX_TAGS:
        raise AWSValidationException(f"A scalable target can have at most {MAX_TAGS} tags.")
    return merged


def tag_resource(self: ApplicationAutoScalingResponse) -> str:
    """TagResource: adds or overwrites tags on a scalable target."""
    target = find_target(self.applicationautoscaling_backend, self._get_param("ResourceARN"))
    target.tags = checked_tags(target_tags(target), self._get_param("Tags") or {})
    return json.dumps({})


def untag_resource(self: ApplicationAutoScalingResponse) -> str:
    """UntagResource: removes the named tag keys; unknown keys are ignored."""
    target = find_target(self.applicationautoscaling_backend, self._get_param("ResourceARN"))
    for key in self._get_param("TagKeys") or []:
        target_tags(target).pop(key, None)
    return json.dumps({})


def list_tags_for_resource(self: ApplicationAutoScalingResponse) -> str:
    """ListTagsForResource: ``{"Tags": {key: value}}`` (a map, not a list)."""
    target = find_target(self.applicationautoscaling_backend, self._get_param("ResourceARN"))
    return json.dumps({"Tags": target_tags(target)})


def install() -> None:
    """Adds the tagging operations and RegisterScalableTarget's ``Tags``: "Use this
    parameter to tag the scalable target when it is created. To tag an existing
    scalable target, use the TagResource operation." (API_RegisterScalableTarget)."""
    register = ApplicationAutoScalingResponse.register_scalable_target

    def register_scalable_target(self: ApplicationAutoScalingResponse) -> str:
        backend = self.applicationautoscaling_backend
        is_new = not backend._scalable_target_exists(self._get_param("ResourceId"), self._get_param("ScalableDimension"))
        tags = checked_tags({}, self._get_param("Tags") or {})
        body = register(self)
        if is_new:
            find_target(backend, json.loads(body)["ScalableTargetARN"]).tags = tags
        return body

    register_scalable_target.__doc__ = register.__doc__
    ApplicationAutoScalingResponse.register_scalable_target = register_scalable_target
    ApplicationAutoScalingResponse.tag_resource = tag_resource
    ApplicationAutoScalingResponse.untag_resource = untag_resource
    ApplicationAutoScalingResponse.list_tags_for_resource = list_tags_for_resource
