"""Whether the app's PostgreSQL connections fit the database's ``max_connections``.

Both regions' tasks connect to the one database in the primary region. Each
task runs one ``serve`` process (uvicorn without workers: one engine, one
realtime hub, ``app/livebeats/app.py``) and holds at most:

- ``POOL_SIZE`` connections: SQLAlchemy's pool, ``max_overflow=0``
  (``app/livebeats/db.py``);
- ``REALTIME_LISTEN_CONNECTIONS``: the realtime bus's own LISTEN connection
  (``app/livebeats/realtime/bus.py``);
- ``REALTIME_PUBLISH_CONNECTIONS``: the bus's NOTIFY pool (``PgBus``'s
  ``publish_pool_size``; ``tests/infra/test_config.py`` keeps the two equal).

``python -m livebeats migrate`` runs before ``serve`` in the same container and
has closed its one connection when ``serve`` opens its own (the Dockerfile's
``migrate && exec serve``), so it adds nothing to a task's peak. A region runs
up to ``MAX_COUNT`` tasks, and during a rolling deploy up to
``DEPLOYMENT_MAXIMUM_PERCENT`` of that: old and new tasks side by side.

RDS for PostgreSQL's default ``max_connections`` is
``LEAST({DBInstanceClassMemory/9531392}, 5000)``, and "because of memory
reserved for the operating system and RDS management processes",
``DBInstanceClassMemory`` is smaller than the class's nominal memory (RDS User
Guide, "Maximum number of database connections",
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html#RDS_Limits.MaxConnections;
the formula: https://docs.aws.amazon.com/prescriptive-guidance/latest/tuning-postgresql-parameters/max-connections.html).
AWS does not publish the reserved amount. Values users report from ``SHOW
max_connections`` come to about 88 % of nominal memory on 2 GiB classes and 95 %
on 8 GiB and larger ones, less on the smallest; the check assumes
``USABLE_MEMORY_FRACTION`` of nominal, below all of them.
"""

from __future__ import annotations

from config.errors import ConfigError

REGIONS = 2
DEPLOYMENT_MAXIMUM_PERCENT = 200
"""The ECS service's ``deployment_maximum_percent``: a rolling deploy doubles the tasks."""
REALTIME_LISTEN_CONNECTIONS = 1
REALTIME_PUBLISH_CONNECTIONS = 2
RESERVED_CONNECTIONS = 8
"""Slots the app must leave free: PostgreSQL's ``superuser_reserved_connections``
(3, for ``rdsadmin``), RDS's ``rds.rds_superuser_reserved_connections`` (2), and 3
for an operator's ``psql`` or a monitoring agent."""
USABLE_MEMORY_FRACTION = 0.7
BYTES_PER_CONNECTION = 9531392
MAX_CONNECTIONS_CAP = 5000
GIB = 1024**3

_BURSTABLE_GIB = {"micro": 1, "small": 2, "medium": 4, "large": 8, "xlarge": 16, "2xlarge": 32}
_GENERAL_PURPOSE_GIB = {"large": 8, "xlarge": 16, "2xlarge": 32, "4xlarge": 64, "8xlarge": 128, "12xlarge": 192, "16xlarge": 256}
DB_CLASS_MEMORY_GIB: dict[str, int] = {
    **{f"db.{family}.{size}": gib for family in ("t3", "t4g") for size, gib in _BURSTABLE_GIB.items()},
    **{f"db.{family}.{size}": gib for family in ("m5", "m6g", "m6i", "m7g") for size, gib in _GENERAL_PURPOSE_GIB.items()},
    **{f"db.{family}.{size}": 2 * gib for family in ("r5", "r6g", "r6i", "r7g") for size, gib in _GENERAL_PURPOSE_GIB.items()},
}
"""Nominal memory of the common RDS for PostgreSQL classes, from "Hardware
specifications for DB instance classes" (RDS User Guide,
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Summary.html).
A class not listed is refused rather than guessed: add it here with its memory."""


def connections_per_task(pool_size: int) -> int:
    return pool_size + REALTIME_LISTEN_CONNECTIONS + REALTIME_PUBLISH_CONNECTIONS


def peak_tasks(max_count: int) -> int:
    """Tasks of both regions at once, at the top of autoscaling and in the middle of a rolling deploy."""
    return REGIONS * max_count * DEPLOYMENT_MAXIMUM_PERCENT // 100


def max_connections(db_instance_class: str) -> int:
    """The default ``max_connections`` of the class, from conservatively estimated ``DBInstanceClassMemory``."""
    if db_instance_class not in DB_CLASS_MEMORY_GIB:
        raise ConfigError(
            "DB_INSTANCE_CLASS",
            f"{db_instance_class!r} has no known memory, so its max_connections cannot be checked; "
            f"known: {_known_classes()} (add a class to DB_CLASS_MEMORY_GIB in config/connection_budget.py)",
        )
    usable_bytes = DB_CLASS_MEMORY_GIB[db_instance_class] * GIB * USABLE_MEMORY_FRACTION
    return min(int(usable_bytes // BYTES_PER_CONNECTION), MAX_CONNECTIONS_CAP)


def check_connection_budget(*, pool_size: int, max_count: int, db_instance_class: str) -> None:
    """Raise ConfigError, showing the arithmetic, when the peak does not fit ``max_connections``."""
    limit = max_connections(db_instance_class)
    per_task = connections_per_task(pool_size)
    tasks = peak_tasks(max_count)
    needed = tasks * per_task + RESERVED_CONNECTIONS
    if needed > limit:
        raise ConfigError(
            "POOL_SIZE, MAX_COUNT, DB_INSTANCE_CLASS",
            f"{REGIONS} regions x MAX_COUNT {max_count} x {DEPLOYMENT_MAXIMUM_PERCENT // 100} during a rolling deploy "
            f"= {tasks} tasks x (POOL_SIZE {pool_size} + {per_task - pool_size} realtime) = {tasks * per_task} "
            f"+ {RESERVED_CONNECTIONS} reserved = {needed} connections, but {db_instance_class} allows about {limit} "
            f"(LEAST(DBInstanceClassMemory/{BYTES_PER_CONNECTION}, {MAX_CONNECTIONS_CAP}) with "
            f"{USABLE_MEMORY_FRACTION:.0%} of its {DB_CLASS_MEMORY_GIB[db_instance_class]} GiB); "
            "lower POOL_SIZE or MAX_COUNT, or choose a larger DB_INSTANCE_CLASS",
        )


def _known_classes() -> str:
    """``db.t4g.micro|small|...; db.m7g.large|...``: one family per group, to keep the error one readable line."""
    families: dict[str, list[str]] = {}
    for name in DB_CLASS_MEMORY_GIB:
        family, size = name.rsplit(".", 1)
        families.setdefault(family, []).append(size)
    return "; ".join(f"{family}.{'|'.join(sizes)}" for family, sizes in families.items())
