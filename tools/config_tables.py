"""Write the configuration tables of README.md and app/README.md from the configuration objects.

Each setting's description and default are written once, next to its validation: the deployment's in
``config.DeploymentConfig`` (``describe()``), the app's in the pydantic ``livebeats.settings.Settings``.
The READMEs show them between ``<!-- BEGIN/END GENERATED ... -->`` markers; a test fails when they differ.

    python tools/config_tables.py          # rewrite both tables
    python tools/config_tables.py --check  # exit 1 if a README differs (make check)
"""

from __future__ import annotations

import sys
from pathlib import Path

from pydantic_core import PydanticUndefined

from config import DeploymentConfig
from livebeats.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOYMENT_README = ROOT / "README.md"
APP_README = ROOT / "app" / "README.md"
BEGIN = "<!-- BEGIN GENERATED {name}: tools/config_tables.py writes this table from {source} -->"
END = "<!-- END GENERATED {name} -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def deployment_table() -> str:
    rows = ["| setting | default | meaning |", "|---|---|---|"]
    for name, default, meaning in DeploymentConfig.describe():
        shown = "unset" if default == "unset" else f"`{default}`"
        rows.append(f"| `{name}` | {shown} | {_cell(meaning)} |")
    return "\n".join(rows)


def app_table() -> str:
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        if default is PydanticUndefined:
            shown = "required"
        elif default is None:
            shown = "unset"
        elif isinstance(default, bool):
            shown = f"`{str(default).lower()}`"
        elif default == "":
            shown = "empty"
        else:
            shown = f"`{default}`"
        rows.append(f"| `{name.upper()}` | {shown} | {_cell(field.description or '')} |")
    return "\n".join(rows)


def _replace(text: str, name: str, source: str, table: str) -> str:
    begin, end = BEGIN.format(name=name, source=source), END.format(name=name)
    if begin not in text or end not in text:
        raise SystemExit(f"{name}: the README has no {begin!r} ... {end!r} markers")
    head, rest = text.split(begin, 1)
    _old, tail = rest.split(end, 1)
    return f"{head}{begin}\n{table}\n{end}{tail}"


def rendered() -> dict[Path, str]:
    """Each README with its table regenerated."""
    return {
        DEPLOYMENT_README: _replace(
            DEPLOYMENT_README.read_text(), "DEPLOYMENT SETTINGS", "config.DeploymentConfig", deployment_table()
        ),
        APP_README: _replace(APP_README.read_text(), "APP SETTINGS", "livebeats.settings.Settings", app_table()),
    }


def main(argv: list[str]) -> int:
    stale = [path for path, text in rendered().items() if path.read_text() != text]
    if "--check" in argv:
        for path in stale:
            print(f"{path.relative_to(ROOT)}: its configuration table differs; run `python tools/config_tables.py`")
        return 1 if stale else 0
    for path, text in rendered().items():
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
