"""The READMEs' configuration tables are the configuration objects' own descriptions and defaults."""

from __future__ import annotations

from tools import config_tables


def test_the_readme_tables_are_generated_from_the_settings():
    stale = [str(path) for path, text in config_tables.rendered().items() if path.read_text() != text]
    assert not stale, f"{stale}: run `python tools/config_tables.py`"


def test_every_setting_has_a_row_with_its_default():
    deployment, app = config_tables.deployment_table(), config_tables.app_table()
    assert "| `AZ_COUNT` | `2` | Availability zones per region, 2 to 4. |" in deployment
    assert "| `APP_IMAGE` | unset |" in deployment
    assert "| `SECRET_KEY_BASE` | required |" in app
    assert "| `POOL_SIZE` | `10` |" in app
