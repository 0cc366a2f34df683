"""The listener's player bar names the profile being heard, links to it and has
"Stop listening"; listener badges link to the listeners' profiles."""

from __future__ import annotations

from playwright.async_api import expect

from .support import expect_audio_paused, expect_audio_playing, expect_listeners, listen_to, upload_songs


async def test_player_bar_names_the_profile_heard_and_stops_listening(sign_in, song_files, server, save_screenshot):
    owner = await sign_in("owner")
    await upload_songs(owner, song_files)
    listener = await sign_in("listener")
    await listen_to(listener, "owner", "eu-west-2")
    await expect_audio_playing(listener)

    player = listener.get_by_role("contentinfo", name="Player")
    await expect(player).to_contain_text("Listening to owner")
    # On the profile heard, the page's own "Stop listening" is the one shown.
    await expect(player.get_by_role("button", name="Stop listening")).to_be_hidden()
    await expect(owner.locator("#player-source")).to_be_hidden()  # the owner hears their own songs
    await expect(listener.locator("#listeners .badge")).to_have_count(2)
    await save_screenshot(listener, "screenshot-listener.png", docs=True)

    await listener.get_by_role("navigation").get_by_role("link", name="Settings").click()
    await expect(listener.get_by_role("heading", level=1)).to_have_text("Settings")
    await expect(player.get_by_role("link", name="owner")).to_have_attribute("href", "/owner")
    await listener.reload()  # a page opened directly names the profile too
    await expect(player.get_by_role("link", name="owner")).to_be_visible()
    await player.get_by_role("link", name="owner").click()
    await expect(listener).to_have_url(f"{server.url}/owner")
    await listener.get_by_role("navigation").get_by_role("link", name="My Songs").click()
    await expect(listener.get_by_role("heading", level=1)).to_have_text("listener's beats (you)")

    await player.get_by_role("button", name="Stop listening").click()
    await expect(player.locator("#player-title")).to_have_text("Nothing playing")
    await expect(player.get_by_text("Listening to")).to_be_hidden()
    await expect_audio_paused(listener)
    await expect_listeners(owner, ["owner"])


async def test_listener_badges_link_to_profiles(sign_in, song_files, server):
    owner = await sign_in("owner")
    await upload_songs(owner, song_files)
    listener = await sign_in("listener")
    await listen_to(listener, "owner", "eu-west-2")
    await expect_listeners(owner, ["owner", "listener"])

    badges = owner.get_by_role("region", name="Listening now")
    await expect(badges.get_by_role("link", name="listener")).to_have_attribute("href", "/listener")
    await expect(badges.locator(".badge .avatar")).to_have_count(2)
    await owner.reload()  # the server-rendered badges link too
    await badges.get_by_role("link", name="listener").click()
    await expect(owner).to_have_url(f"{server.url}/listener")
    await expect(owner.get_by_role("heading", level=1)).to_have_text("listener's beats")
    active = owner.get_by_role("navigation").get_by_role("list", name="Active users")
    await expect(active.get_by_role("link", name="owner")).to_be_visible()
    await expect(active.locator("img.avatar")).to_have_count(1)


async def test_tagline_song_count_and_listen_buttons_update_live(sign_in, song_files):
    owner = await sign_in("owner")
    await upload_songs(owner, song_files)
    listener = await sign_in("listener")
    await listen_to(listener, "owner", "eu-west-2")
    other_tab = await listener.context.new_page()
    await other_tab.goto("/owner")
    await expect(other_tab.get_by_role("button", name="Stop listening")).to_be_visible()

    await owner.get_by_role("navigation").get_by_role("link", name="Settings").click()
    await owner.get_by_label("Tagline").fill("Songs for the morning")
    await owner.get_by_role("button", name="Save").click()
    await expect(owner.get_by_role("alert")).to_have_text("Settings updated")
    await expect(listener.get_by_role("heading", level=1)).to_have_text("Songs for the morning")

    await owner.get_by_role("navigation").get_by_role("link", name="My Songs").click()
    owner.once("dialog", lambda dialog: dialog.accept())
    await owner.get_by_title("Delete Evening Tide").click()
    await expect(listener.locator("#songs-count")).to_have_text("1 song")

    await listener.get_by_role("button", name="Stop listening").click()
    await expect(other_tab.get_by_role("button", name="Listen", exact=True)).to_be_visible()
    await expect(other_tab.get_by_role("button", name="Stop listening")).to_be_hidden()
