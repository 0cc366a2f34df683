"""Deployment configuration: one typed, validated object built at the top."""

from config.deployment import DeploymentConfig, load_config
from config.errors import ConfigError

__all__ = ["ConfigError", "DeploymentConfig", "load_config"]
