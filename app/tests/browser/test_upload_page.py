"""The upload page: files dropped on the drop zone are uploaded like chosen ones,
each shows its duration once read, and an error stands next to the file it concerns."""

from __future__ import annotations

import base64

from mp3gen import write_mp3
from playwright.async_api import expect

from .support import open_upload_dialog, song_row

DROP_FILES = """async ([selector, files]) => {
  const transfer = new DataTransfer();
  for (const {name, data} of files) {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    transfer.items.add(new File([bytes], name, {type: "audio/mpeg"}));
  }
  const zone = document.querySelector(selector);
  zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: transfer, bubbles: true, cancelable: true}));
  zone.dispatchEvent(new DragEvent("drop", {dataTransfer: transfer, bubbles: true, cancelable: true}));
}"""


async def test_dropped_files_show_durations_and_upload(sign_in, song_files, server):
    page = await sign_in("owner")
    await open_upload_dialog(page)
    zone = page.locator("#drop-zone")
    await expect(zone).to_contain_text("Drop MP3 files here")
    await expect(page.get_by_label("Drop MP3 files here, or choose files")).to_be_attached()

    files = [{"name": path.name, "data": base64.b64encode(path.read_bytes()).decode()} for path in song_files]
    await page.evaluate(DROP_FILES, ["#drop-zone", files])

    entries = page.locator("#upload-list > li")
    await expect(entries).to_have_count(2)
    for entry, (name, duration) in zip(
        await entries.all(), [(song_files[0].name, "1:30"), (song_files[1].name, "1:15")], strict=True
    ):
        await expect(entry.locator(".file-name")).to_have_text(name)
        await expect(entry.locator(".file-duration")).to_have_text(duration)
        await expect(entry.get_by_label("Title")).not_to_have_value("")
    await page.get_by_role("button", name="Save").click()
    await expect(page).to_have_url(f"{server.url}/owner")
    await expect(song_row(page, "Morning Light")).to_have_count(1)
    await expect(song_row(page, "Evening Tide")).to_have_count(1)


async def test_each_error_stands_next_to_its_file(sign_in, song_files, tmp_path):
    oversize = write_mp3(tmp_path / "Long Night - The Beats.mp3", 5_600)
    fake = tmp_path / "Not A Song - Nobody.mp3"
    fake.write_text("This is a shopping list, not music.\n" * 100)
    page = await sign_in("owner")
    await open_upload_dialog(page)
    await page.locator("#files").set_input_files([song_files[0], oversize, fake])

    entries = page.locator("#upload-list > li")
    await expect(entries).to_have_count(3)
    good, large, bad = await entries.all()
    await expect(good.locator(".file-duration")).to_have_text("1:30")
    await expect(good.locator(".field-error")).to_be_hidden()
    await expect(large.locator(".file-duration")).to_have_text("93:20")  # read by the browser; never uploaded
    await expect(large.get_by_role("alert")).to_have_text(
        "Long Night - The Beats.mp3 is larger than 20 MB, the most a song file may be."
    )
    await expect(bad.get_by_role("alert")).to_have_text(
        "Not A Song - Nobody.mp3: not a valid MP3 file (the content is not MPEG audio)"
    )
    await expect(bad.locator(".file-duration")).to_have_text("")
    for refused in (large, bad):
        await expect(refused.locator(".fields")).to_be_hidden()
    await expect(good.get_by_label("Title")).to_have_value("Morning Light")
    await page.get_by_role("button", name="Save").click()  # the good file alone is saved
    await expect(song_row(page, "Morning Light")).to_have_count(1)
    await expect(page.locator("#songs-count")).to_have_text("1 song")
