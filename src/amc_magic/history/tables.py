"""The history schema as it stands after the newest migration, for building queries.

The tables are created and changed only by :mod:`amc_magic.history.versions`; this module
describes the result (a test compares it with a migrated database). UUIDs are stored as
36-character strings, never as a native UUID type, so that an odd lookup string is compared as
text and cannot fail a cast.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from amc_magic.history.records import LIVE_STATUSES

UUID_LENGTH = 36


class UtcDateTime(sa.TypeDecorator[datetime]):
    """A timestamp that goes in and comes out as a timezone-aware UTC datetime.

    SQLite keeps no zone, so values are stored there as naive UTC; PostgreSQL stores
    ``timestamptz``. A naive datetime is refused: its meaning would depend on the machine.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} given; pass a timezone-aware datetime")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def live_status_clause(status: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    """The ``status IN (live statuses)`` condition, also the partial unique index's predicate."""
    return status.in_(sorted(live.value for live in LIVE_STATUSES))


metadata = sa.MetaData()

migrations = sa.Table(
    "amc_migrations",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("applied_at", UtcDateTime, nullable=False),
)

accounts = sa.Table(
    "amc_accounts",
    metadata,
    sa.Column("entity_id", sa.String(64), primary_key=True),
    sa.Column("marketplace_id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(255)),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

instances = sa.Table(
    "amc_instances",
    metadata,
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

workflows = sa.Table(
    "amc_workflows",
    metadata,
    sa.Column("id", sa.String(UUID_LENGTH), primary_key=True),
    sa.Column("workflow_id", sa.String(200), nullable=False, unique=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("sql_template", sa.Text, nullable=False),
    sa.Column("parameters", sa.JSON(none_as_null=True)),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    # added by 0004_workflow_versions
    sa.Column("description", sa.Text),
)

sa.Index("ux_amc_workflows_name", workflows.c.name, unique=True)

workflow_versions = sa.Table(
    "amc_workflow_versions",
    metadata,
    sa.Column("workflow_id", sa.String(UUID_LENGTH), sa.ForeignKey("amc_workflows.id"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("sql_template", sa.Text, nullable=False),
    sa.Column("parameters", sa.JSON(none_as_null=True)),
    sa.Column("options", sa.JSON(none_as_null=True)),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

workflow_syncs = sa.Table(
    "amc_workflow_syncs",
    metadata,
    sa.Column("workflow_id", sa.String(UUID_LENGTH), sa.ForeignKey("amc_workflows.id"), primary_key=True),
    sa.Column("instance_id", sa.String(128), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("synced_at", UtcDateTime, nullable=False),
)

executions = sa.Table(
    "amc_executions",
    metadata,
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
    # added by 0002_cache_and_polling
    sa.Column("cache_key", sa.String(64), index=True),
    sa.Column("options", sa.JSON(none_as_null=True)),
    sa.Column("last_polled_at", UtcDateTime),
    sa.Column("poll_count", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("bytes_downloaded", sa.BigInteger),
    # added by 0003_backfills
    sa.Column("backfill_id", sa.String(64), index=True),
    # added by 0004_workflow_versions
    sa.Column("workflow_version", sa.Integer),
    # added by 0005_execution_leases
    sa.Column("lease_owner", sa.String(200)),
    sa.Column("lease_expires_at", UtcDateTime),
)

sa.Index(
    "ux_amc_executions_live_cache_key",
    executions.c.cache_key,
    unique=True,
    sqlite_where=live_status_clause(executions.c.status),
    postgresql_where=live_status_clause(executions.c.status),
)

results = sa.Table(
    "amc_results",
    metadata,
    sa.Column("execution_id", sa.String(UUID_LENGTH), sa.ForeignKey("amc_executions.id"), primary_key=True),
    sa.Column("parquet", sa.LargeBinary, nullable=False),
    sa.Column("byte_size", sa.BigInteger, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    # added by 0006_result_storage
    sa.Column("sha256", sa.String(64)),
)
sa.Index("ix_amc_results_lookup", results.c.execution_id, results.c.byte_size, results.c.sha256)  # 0007
