"""Profile page, songs table fragment, upload dialog, file upload and batch save."""

from __future__ import annotations

import tempfile
from pathlib import Path

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from livebeats.errors import UserError
from livebeats.models import User
from livebeats.realtime.topics import LISTENERS_SHOWN, profile_topic
from livebeats.songs.service import MAX_BATCH_FILES, MAX_FILE_BYTES, MAX_SONGS_PER_USER, NewSong
from livebeats.text import clean_text
from livebeats.web import csrf_valid, flash, redirect, render, services, signed_in, signed_in_or_public

UPLOAD_PATH_SUFFIX = "/songs/uploads"
"""The one route whose body may exceed the general request limit (it enforces MAX_FILE_BYTES itself)."""
FILE_NAME_MAX_LENGTH = 255
FILE_TOO_LARGE = f"is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB, the most a song file may be."


async def load_profile(request: Request) -> User | None:
    profile: User | None = await services(request).accounts.by_username(request.path_params["username"])
    return profile


def not_found(request: Request) -> Response:
    return render(request, "not_found.html", status_code=404)


def json_error(message: str, status_code: int) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status_code)


@signed_in_or_public
async def profile_page(request: Request) -> Response:
    """The profile; a signed-out visitor (PUBLIC_PROFILES) gets it without controls, following its playback."""
    profile = await load_profile(request)
    if profile is None:
        return not_found(request)
    if profile.username != request.path_params["username"]:
        return redirect(f"/{profile.username}")
    user: User | None = request.state.user
    listeners = services(request).hub.presence(profile_topic(profile.id))
    return render(
        request,
        "profile.html",
        {
            "profile": profile,
            "songs": await services(request).songs.list_for(profile.id),
            "is_owner": user is not None and user.id == profile.id,
            "listening": user is None or user.active_profile_user_id == profile.id,
            "public_listener": user is None,
            "listeners": listeners[:LISTENERS_SHOWN],
            "more_listeners": max(len(listeners) - LISTENERS_SHOWN, 0),
        },
    )


@signed_in_or_public
async def songs_table(request: Request) -> Response:
    """The table body alone, re-fetched by open pages when the song list changes."""
    profile = await load_profile(request)
    if profile is None:
        return not_found(request)
    return render(
        request,
        "_songs.html",
        {
            "profile": profile,
            "songs": await services(request).songs.list_for(profile.id),
            "is_owner": request.state.user is not None and request.state.user.id == profile.id,
        },
    )


@signed_in
async def listening_profile(request: Request) -> Response:
    """Who the signed-in user listens to, so the player bar can name and link that
    profile on pages that are not it (the live socket's player carries only its id)."""
    profile_id = request.state.user.active_profile_user_id
    profile = None
    if profile_id is not None:
        async with services(request).sessions() as session:
            profile = await session.get(User, profile_id)
    if profile is None:
        return JSONResponse({"profile_id": None, "username": None})
    return JSONResponse({"profile_id": profile.id, "username": profile.username})


@signed_in
async def upload_page(request: Request) -> Response:
    profile = await load_profile(request)
    if profile is None or profile.id != request.state.user.id:
        flash(request, "error", "You can't do that")
        return redirect(f"/{request.state.user.username}")
    return render(
        request,
        "upload.html",
        {
            "profile": profile,
            "max_batch": MAX_BATCH_FILES,
            "max_mb": MAX_FILE_BYTES // (1024 * 1024),
            "max_songs": MAX_SONGS_PER_USER,
        },
    )


async def _owner_json_request(request: Request) -> User | JSONResponse:
    user: User = request.state.user
    if not csrf_valid(request, request.headers.get("x-csrf-token")):
        return json_error("Your page expired; reload it and try again.", 403)
    profile = await load_profile(request)
    if profile is None or profile.id != user.id:
        return json_error("You can't do that: only the owner can upload songs to a profile.", 403)
    return user


@signed_in
async def upload_file(request: Request) -> Response:
    """One file per request (the raw body), so the browser can show progress per file."""
    owner = await _owner_json_request(request)
    if isinstance(owner, JSONResponse):
        return owner
    file_name = clean_text(request.query_params.get("filename", ""))[:FILE_NAME_MAX_LENGTH] or "upload.mp3"
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_FILE_BYTES:
        return json_error(f"{file_name} {FILE_TOO_LARGE}", 413)
    with tempfile.NamedTemporaryFile(prefix="livebeats-upload-", suffix=".mp3") as temporary:
        received = 0
        try:
            async for chunk in request.stream():
                received += len(chunk)
                if received > MAX_FILE_BYTES:
                    return json_error(f"{file_name} {FILE_TOO_LARGE}", 413)
                temporary.write(chunk)
        except ClientDisconnect:
            return json_error(f"{file_name}: the upload was interrupted; please try again.", 400)
        temporary.flush()
        if received == 0:
            return json_error(f"{file_name}: the file is empty, not a valid MP3 file.", 422)
        try:
            pending = await services(request).songs.accept_upload(owner, Path(temporary.name), file_name)
        except UserError as error:
            return json_error(str(error), 422)
    return JSONResponse(
        {
            "token": pending.token,
            "file_name": pending.file_name,
            "title": pending.title,
            "artist": pending.artist,
            "attribution": pending.attribution,
            "duration": pending.duration,
        }
    )


@signed_in
async def save_songs(request: Request) -> Response:
    owner = await _owner_json_request(request)
    if isinstance(owner, JSONResponse):
        return owner
    try:
        body = await request.json()
        entries = body["songs"]
        new_songs = [
            NewSong(
                token=str(entry["token"]),
                title=str(entry.get("title", "")),
                artist=str(entry.get("artist", "")),
                attribution=str(entry.get("attribution", "") or ""),
            )
            for entry in entries
        ]
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return json_error('Expected JSON {"songs": [{"token", "title", "artist", "attribution"}, ...]}.', 400)
    try:
        song_ids = await services(request).songs.save_batch(owner.id, owner.id, new_songs)
    except UserError as error:
        return json_error(str(error), 422)
    count = len(song_ids)
    flash(request, "info", f"{count} song{'s' if count != 1 else ''} uploaded")
    return JSONResponse({"song_ids": song_ids, "redirect": f"/{owner.username}"})


routes = [
    Route("/profile/listening", listening_profile),
    Route("/{username}", profile_page),
    Route("/{username}/songs/table", songs_table),
    Route("/{username}/songs/new", upload_page),
    Route("/{username}" + UPLOAD_PATH_SUFFIX, upload_file, methods=["POST"]),
    Route("/{username}/songs", save_songs, methods=["POST"]),
]
