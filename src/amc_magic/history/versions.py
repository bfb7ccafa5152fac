"""The schema's history: one named step per version, applied in order and never edited.

Each step describes the tables as they were at its own version (it must not use
:mod:`amc_magic.history.tables`, which always shows the newest shape), so that a database
created by any released version can be brought up to date.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.schema import CreateColumn

from amc_magic.history.tables import UUID_LENGTH, UtcDateTime


@dataclass(frozen=True)
class Migration:
    """A named schema change; ``apply`` runs inside the transaction that records it."""

    name: str
    apply: Callable[[sa.Connection], None]


def _initial_schema(conn: sa.Connection) -> None:
    """Version 1: accounts, instances, workflows, executions and results."""
    meta = sa.MetaData()
    sa.Table(
        "amc_accounts",
        meta,
        sa.Column("entity_id", sa.String(64), primary_key=True),
        sa.Column("marketplace_id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(255)),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    sa.Table(
        "amc_instances",
        meta,
        sa.Column("instance_id", sa.String(128), primary_key=True),
        sa.Column("entity_id", sa.String(64), nullable=False),
        sa.Column("marketplace_id", sa.String(32), nullable=False),
        sa.Column("api_url", sa.String(500), nullable=False),
        sa.Column("instance_type", sa.String(32), nullable=False),
        sa.Column("name", sa.String(255)),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["entity_id", "marketplace_id"], ["amc_accounts.entity_id", "amc_accounts.marketplace_id"]
        ),
    )
    sa.Table(
        "amc_workflows",
        meta,
        sa.Column("id", sa.String(UUID_LENGTH), primary_key=True),
        sa.Column("workflow_id", sa.String(200), nullable=False, unique=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("sql_template", sa.Text, nullable=False),
        sa.Column("parameters", sa.JSON(none_as_null=True)),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    sa.Table(
        "amc_executions",
        meta,
        sa.Column("id", sa.String(UUID_LENGTH), primary_key=True),
        sa.Column("amc_execution_id", sa.String(100), unique=True),
        sa.Column("instance_id", sa.String(128), nullable=False, index=True),
        sa.Column("workflow_id", sa.String(UUID_LENGTH), sa.ForeignKey("amc_workflows.id")),
        sa.Column("sql_template", sa.Text, nullable=False),
        sa.Column("rendered_sql", sa.Text, nullable=False),
        sa.Column("parameter_values", sa.JSON(none_as_null=True)),
        sa.Column("window_start", UtcDateTime),
        sa.Column("window_end", UtcDateTime),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("window_type", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", sa.Text),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("submitted_at", UtcDateTime, index=True),
        sa.Column("started_at", UtcDateTime),
        sa.Column("finished_at", UtcDateTime),
        sa.Column("row_count", sa.BigInteger),
        sa.Column("output_columns", sa.JSON(none_as_null=True)),
    )
    sa.Table(
        "amc_results",
        meta,
        sa.Column("execution_id", sa.String(UUID_LENGTH), sa.ForeignKey("amc_executions.id"), primary_key=True),
        sa.Column("parquet", sa.LargeBinary, nullable=False),
        sa.Column("byte_size", sa.BigInteger, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    meta.create_all(conn)


def _cache_and_polling(conn: sa.Connection) -> None:
    """Version 2: cache keys with one live execution per key, options, poll bookkeeping, bytes."""
    new_columns = [
        sa.Column("cache_key", sa.String(64)),
        sa.Column("options", sa.JSON(none_as_null=True)),
        sa.Column("last_polled_at", UtcDateTime),
        sa.Column("poll_count", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("bytes_downloaded", sa.BigInteger),
    ]
    for column in new_columns:
        column_ddl = CreateColumn(column).compile(dialect=conn.dialect)
        conn.execute(sa.text(f"ALTER TABLE amc_executions ADD COLUMN {column_ddl}"))
    executions = sa.Table(
        "amc_executions", sa.MetaData(), sa.Column("cache_key", sa.String(64)), sa.Column("status", sa.String(16))
    )
    sa.Index("ix_amc_executions_cache_key", executions.c.cache_key).create(conn)
    live = executions.c.status.in_(["CREATING", "PENDING", "PUBLISHING", "RUNNING"])
    sa.Index(
        "ux_amc_executions_live_cache_key",
        executions.c.cache_key,
        unique=True,
        sqlite_where=live,
        postgresql_where=live,
    ).create(conn)


def _backfills(conn: sa.Connection) -> None:
    """Version 3: executions that belong to a backfill (one row per period and instance)."""
    column = sa.Column("backfill_id", sa.String(64))
    conn.execute(sa.text(f"ALTER TABLE amc_executions ADD COLUMN {CreateColumn(column).compile(dialect=conn.dialect)}"))
    executions = sa.Table("amc_executions", sa.MetaData(), sa.Column("backfill_id", sa.String(64)))
    sa.Index("ix_amc_executions_backfill_id", executions.c.backfill_id).create(conn)


def _execution_leases(conn: sa.Connection) -> None:
    """Version 5: a lease on an execution, so that one follower at a time polls and finalises it."""
    for column in (sa.Column("lease_owner", sa.String(200)), sa.Column("lease_expires_at", UtcDateTime)):
        column_ddl = CreateColumn(column).compile(dialect=conn.dialect)
        conn.execute(sa.text(f"ALTER TABLE amc_executions ADD COLUMN {column_ddl}"))


def _workflow_versions(conn: sa.Connection) -> None:
    """Version 4: numbered workflow versions, unique names, descriptions, AMC sync state per instance,
    and the workflow version each execution ran.

    Each existing workflow becomes version 1 of itself; of workflows sharing a name, all but the
    oldest get their ``workflow_id`` appended to it, so that names can be unique.
    """
    for table, column in (
        ("amc_workflows", sa.Column("description", sa.Text)),
        ("amc_executions", sa.Column("workflow_version", sa.Integer)),
    ):
        conn.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN {CreateColumn(column).compile(dialect=conn.dialect)}"))
    meta = sa.MetaData()
    workflows = sa.Table(
        "amc_workflows",
        meta,
        sa.Column("id", sa.String(UUID_LENGTH), primary_key=True),
        sa.Column("workflow_id", sa.String(200)),
        sa.Column("name", sa.String(255)),
        sa.Column("sql_template", sa.Text),
        sa.Column("parameters", sa.JSON(none_as_null=True)),
        sa.Column("created_at", UtcDateTime),
    )
    versions = sa.Table(
        "amc_workflow_versions",
        meta,
        sa.Column("workflow_id", sa.String(UUID_LENGTH), sa.ForeignKey("amc_workflows.id"), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("sql_template", sa.Text, nullable=False),
        sa.Column("parameters", sa.JSON(none_as_null=True)),
        sa.Column("options", sa.JSON(none_as_null=True)),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    syncs = sa.Table(
        "amc_workflow_syncs",
        meta,
        sa.Column("workflow_id", sa.String(UUID_LENGTH), sa.ForeignKey("amc_workflows.id"), primary_key=True),
        sa.Column("instance_id", sa.String(128), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("synced_at", UtcDateTime, nullable=False),
    )
    meta.create_all(conn, tables=[versions, syncs])
    seen: set[str] = set()
    rows = conn.execute(sa.select(workflows.c.id, workflows.c.workflow_id, workflows.c.name).order_by(
        workflows.c.created_at, workflows.c.id
    ))
    for row in rows.all():
        if row.name in seen:
            renamed = f"{row.name} ({row.workflow_id})"[:255]
            conn.execute(sa.update(workflows).where(workflows.c.id == row.id).values(name=renamed))
        seen.add(row.name)
    sa.Index("ux_amc_workflows_name", workflows.c.name, unique=True).create(conn)
    first = sa.select(
        workflows.c.id,
        sa.literal(1, sa.Integer),
        workflows.c.sql_template,
        workflows.c.parameters,
        sa.null(),
        workflows.c.created_at,
    )
    conn.execute(
        sa.insert(versions).from_select(
            ["workflow_id", "version", "sql_template", "parameters", "options", "created_at"], first
        )
    )


def _result_storage(conn: sa.Connection) -> None:
    """Version 6: each stored result's SHA-256, which names and checks its copy on a machine."""
    column_ddl = CreateColumn(sa.Column("sha256", sa.String(64))).compile(dialect=conn.dialect)
    conn.execute(sa.text(f"ALTER TABLE amc_results ADD COLUMN {column_ddl}"))


def _result_lookup(conn: sa.Connection) -> None:
    """Version 7: an index holding each result's size and checksum, so that finding them reads no bytes.

    SQLite keeps a row's columns in order, and these come after the Parquet bytes: reading them
    from the row walked the whole chain of overflow pages (5 ms for an 18 MB result, on every hit).
    """
    conn.execute(sa.text("CREATE INDEX ix_amc_results_lookup ON amc_results (execution_id, byte_size, sha256)"))


MIGRATIONS: tuple[Migration, ...] = (
    Migration("0001_initial", _initial_schema),
    Migration("0002_cache_and_polling", _cache_and_polling),
    Migration("0003_backfills", _backfills),
    Migration("0004_workflow_versions", _workflow_versions),
    Migration("0005_execution_leases", _execution_leases),
    Migration("0006_result_storage", _result_storage),
    Migration("0007_result_lookup", _result_lookup),
)
"""Every schema step, oldest first."""
