"""Every page passes an automated accessibility scan (axe-core, from npm) with no
serious or critical violation. Counts per page are printed for the record."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from .conftest import VIEWPORT
from .support import upload_songs

AXE_SCRIPT = Path(__file__).resolve().parents[3] / "node_modules" / "axe-core" / "axe.min.js"
"""Installed by `npm ci` from package.json's devDependencies."""
BLOCKING_IMPACTS = {"serious", "critical"}
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map((v) => ({id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5)}));
}"""


async def scan(page: Page, name: str) -> list[dict]:
    """Inject axe-core (through the DevTools protocol, so a strict CSP does not block it) and run it."""
    if not AXE_SCRIPT.exists():
        pytest.fail(f"{AXE_SCRIPT} is missing: run `npm ci` at the repository root to install axe-core")
    await page.evaluate(AXE_SCRIPT.read_text() + "\n;undefined")
    violations = await page.evaluate(RUN_AXE)
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    print(
        f"axe {name}: {len(violations)} violations, {len(blocking)} serious/critical: "
        + ", ".join(f"{v['id']}({v['impact']}) at {v['nodes']}" for v in violations)
    )
    return blocking


async def test_no_serious_accessibility_violation_on_any_page(sign_in, song_files, chromium, server):
    owner = await sign_in("owner")
    await upload_songs(owner, song_files)
    listener = await sign_in("listener")
    await listener.goto("/owner")
    await expect(listener.locator("#ping-region")).to_have_text("eu-west-2")

    pages: list[tuple[str, Page, str | None]] = [
        ("profile (owner)", owner, None),
        ("profile (visitor)", listener, None),
        ("settings", owner, "/profile/settings"),
        ("upload", owner, "/owner/songs/new"),
        ("not found", owner, "/no-such-user"),
    ]
    failures = {}
    for name, page, path in pages:
        if path:
            await page.goto(path)
        await expect(page.locator("#ping-region")).to_have_text("eu-west-2")
        failures[name] = await scan(page, name)
    await owner.goto("/owner")
    await owner.emulate_media(color_scheme="dark")
    await expect(owner.locator("#ping-region")).to_have_text("eu-west-2")
    failures["profile (owner, dark theme)"] = await scan(owner, "profile (owner, dark theme)")
    visitor = await chromium.new_context(base_url=server.url, viewport=VIEWPORT)
    try:
        signin = await visitor.new_page()
        await signin.goto("/signin")
        failures["sign in"] = await scan(signin, "sign in")
    finally:
        await visitor.close()
    assert not any(failures.values()), {name: found for name, found in failures.items() if found}
