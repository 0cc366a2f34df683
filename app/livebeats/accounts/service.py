"""Accounts: creating users from GitHub (or the development form), settings, listening."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from livebeats.accounts.github import GitHubIdentity
from livebeats.errors import InvalidInput, NotFound
from livebeats.models import Identity, User
from livebeats.realtime.topics import profile_topic, user_topic
from livebeats.text import clean_text

USERNAME_PATTERN = re.compile(r"[a-zA-Z0-9_-]{2,32}")
"""Matched whole (`fullmatch`): with `match` and `$`, "alice\\n" would pass."""
USERNAME_RULE = "2 to 32 characters: letters, digits, '_' or '-'"
RESERVED_USERNAMES = frozenset(
    {"signin", "signout", "profile", "files", "oauth", "static", "live", "dev", "songs", "favicon.ico"}
)
"""Top-level paths of the app; a user with such a name could never reach their profile."""

TAGLINE_MAX_LENGTH = 255


class FormErrors(InvalidInput):
    """Several fields are wrong; `fields` maps each field name to its message."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(fields.values()))
        self.fields = fields


def username_problem(username: str) -> str | None:
    if not USERNAME_PATTERN.fullmatch(username):
        return f"Username must be {USERNAME_RULE}."
    if username.lower() in RESERVED_USERNAMES:
        return f"The username '{username}' is reserved; please choose another."
    return None


async def username_taken(session: AsyncSession, username: str, except_user_id: int | None = None) -> bool:
    statement = select(User.id).where(func.lower(User.username) == username.lower())
    if except_user_id is not None:
        statement = statement.where(User.id != except_user_id)
    return await session.scalar(statement.limit(1)) is not None


async def free_username(session: AsyncSession, wanted: str, suffix: str) -> str:
    """`wanted` if it is valid and free, else the same with a suffix (GitHub ids are unique)."""
    if username_problem(wanted) is None and not await username_taken(session, wanted):
        return wanted
    cleaned = re.sub(r"[^a-zA-Z0-9_-]", "-", wanted)[: 31 - len(suffix)] or "user"
    return f"{cleaned}-{suffix}"


class Accounts:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], hub: Any) -> None:
        self.sessions = sessions
        self.hub = hub

    async def by_username(self, username: str) -> User | None:
        if not USERNAME_PATTERN.fullmatch(username):
            return None
        async with self.sessions() as session:
            return await session.scalar(select(User).where(func.lower(User.username) == username.lower()))

    async def sign_in_with_github(self, identity: GitHubIdentity) -> User:
        """Returning users (matched by GitHub id) get a fresh token; new users an account."""
        async with self.sessions() as session, session.begin():
            existing = await session.scalar(
                select(Identity).where(Identity.provider == "github", Identity.provider_id == identity.provider_id)
            )
            if existing is not None:
                existing.provider_token = identity.token
                existing.provider_login = identity.login
                existing.provider_meta = identity.raw
                return await session.get_one(User, existing.user_id)  # the identity's user (a foreign key)
            email_owner = await session.scalar(select(User.id).where(func.lower(User.email) == identity.email))
            if email_owner is not None:
                raise InvalidInput(f"Another account already uses the email {identity.email}; sign in with that account instead.")
            username = await free_username(session, identity.login, identity.provider_id)
            user = User(
                email=identity.email,
                username=username,
                name=identity.name,
                avatar_url=identity.avatar_url,
                profile_url=identity.profile_url,
                tagline=f"{username}'s beats",
            )
            session.add(user)
            await session.flush()
            session.add(
                Identity(
                    user_id=user.id,
                    provider="github",
                    provider_id=identity.provider_id,
                    provider_login=identity.login,
                    provider_email=identity.email,
                    provider_token=identity.token,
                    provider_meta=identity.raw,
                )
            )
            return user

    async def sign_in_for_development(self, username: str) -> User:
        """A made-up user without GitHub; only reachable when DEV_SIGNIN is enabled."""
        problem = username_problem(username)
        if problem:
            raise FormErrors({"username": problem})
        async with self.sessions() as session, session.begin():
            user = await session.scalar(select(User).where(func.lower(User.username) == username.lower()))
            if user is None:
                user = User(
                    email=f"{username.lower()}@dev.invalid",
                    username=username,
                    name=username,
                    avatar_url=None,
                    profile_url=None,
                    tagline=f"{username}'s beats",
                )
                session.add(user)
            return user

    async def update_settings(self, user_id: int, *, username: str, tagline: str) -> User:
        username, tagline = clean_text(username), clean_text(tagline)
        errors: dict[str, str] = {}
        if problem := username_problem(username):
            errors["username"] = problem
        if not tagline:
            errors["tagline"] = "Tagline can't be blank."
        elif len(tagline) > TAGLINE_MAX_LENGTH:
            errors["tagline"] = f"Tagline must be at most {TAGLINE_MAX_LENGTH} characters."
        async with self.sessions() as session, session.begin():
            user = await session.scalar(select(User).where(User.id == user_id).with_for_update())
            if user is None:
                raise NotFound("Your account no longer exists.")
            if "username" not in errors and await username_taken(session, username, except_user_id=user_id):
                errors["username"] = f"The username '{username}' is already taken (names ignore case)."
            if errors:
                raise FormErrors(errors)
            renamed = user.username != username
            retagged = user.tagline != tagline
            user.username = username
            user.tagline = tagline
        if renamed:
            await self.hub.publish(
                profile_topic(user_id), {"type": "profile_renamed", "profile_id": user_id, "username": username}
            )
        elif retagged:
            # Open profile pages show the new tagline at once (a rename reloads them anyway).
            await self.hub.publish(profile_topic(user_id), {"type": "tagline_changed", "profile_id": user_id, "tagline": tagline})
        return user

    async def set_listening(self, user_id: int, profile_id: int | None) -> None:
        """Remember which profile the user listens to (restored on reload); tell their other tabs."""
        async with self.sessions() as session, session.begin():
            user = await session.get(User, user_id)
            if user is None:
                raise NotFound("Your account no longer exists.")
            if profile_id is not None and await session.get(User, profile_id) is None:
                raise NotFound("That profile no longer exists.")
            user.active_profile_user_id = profile_id
        await self.hub.publish(user_topic(user_id), {"type": "listening", "profile_id": profile_id})
