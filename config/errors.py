"""The one error a bad setting raises: it names the setting and says what is allowed."""


class ConfigError(ValueError):
    """A configuration value that cannot deploy."""

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting}: {problem}")
        self.setting = setting
