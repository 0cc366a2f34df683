"""How a live socket is refused or ended: its close codes and the reasons sent with them.

A connect that cannot get a database connection in time is closed with 1013
"try again later"; the page reconnects with backoff.
"""

from __future__ import annotations

import sqlalchemy.exc

POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013
SIGNED_OUT = 4001
SERVER_BUSY = "The server is busy; try again later."
DatabaseBusy = sqlalchemy.exc.TimeoutError
"""Raised when no pooled database connection came free within the pool's timeout."""
DATABASE_DOWN = "The server cannot reach its database right now; try again in a moment."
