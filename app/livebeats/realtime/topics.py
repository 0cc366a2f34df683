"""The hub topics every part of the app publishes to or listens on, and the limits they share.

A topic is a plain string on the bus; a typo in one would silently deliver to
nobody, so each is spelled here once.
"""

from __future__ import annotations

ACTIVE_USERS = "active_users"
"""Everyone's "active users" list (who is playing), sent to every page."""

LISTENERS_SHOWN = 20
"""Listener badges a profile page shows ("+ N more" from the count); presence events need carry no more."""

ACTIVE_USERS_INTERVAL = 1.0
"""Least seconds between two "active users" lists sent to the pages of one node (newest wins)."""


def profile_topic(profile_id: int) -> str:
    """A profile's song list changes, its playback and who is listening to it."""
    return f"profile:{profile_id}"


def user_topic(user_id: int) -> str:
    """What a user's other tabs must follow: the profile listened to, sign-out."""
    return f"user:{user_id}"
