"""AMC's tables as amc-magic knows them: the one source of truth for the SQL checks and the sandbox.

Each table lists every column of AMC's published data-source documentation, with its AMC data type,
whether it is a dimension or a metric, its aggregation threshold and a short description (the tables are
defined in ``_tables`` from the shared columns of ``_common`` and ``_conversion``). The sandbox generates
exactly these columns, serves them from ``GET /dataSources`` and enforces their thresholds; the SQL checks
read them to find unknown columns and privacy violations (a real instance's own schema, from
``/dataSources``, replaces this one in the checks).

Thresholds (AMC): NONE (one user is enough), LOW (2 distinct users per output row), MEDIUM and HIGH
(100; HIGH also forbids literal filters), VERY_HIGH (never in the output, usable only inside COUNT /
COUNT(DISTINCT), no literal filters).
"""

from __future__ import annotations

from collections.abc import Mapping

from ._model import Column, Kind, Table, Threshold
from ._tables import ALL_TABLES

__all__ = [
    "TABLES",
    "USER_COLUMN",
    "Column",
    "Kind",
    "Table",
    "Threshold",
    "data_sources",
    "get_table",
    "tables_from_data_sources",
]

TABLES: Mapping[str, Table] = {t.name: t for t in ALL_TABLES}

USER_COLUMN = "user_id"


def get_table(name: str) -> Table | None:
    """The bundled table named ``name`` (case-insensitive), or None."""
    return TABLES.get(name.lower())


def data_sources(tables: Mapping[str, Table] = TABLES) -> list[dict[str, object]]:
    """The tables in the shape of AMC's ``GET /dataSources`` response items."""
    return [
        {
            "dataSourceId": t.name,
            "description": t.description,
            "owner": "AMAZON",
            "provider": "AMAZON",
            "tags": [],
            "outputChannels": ["REPORTING"],
            "columns": [
                {
                    "name": c.name,
                    "columnType": c.kind.value,
                    "dataType": c.data_type,
                    "aggregationThreshold": c.threshold.name,
                    "description": c.description,
                }
                for c in t.columns
            ],
        }
        for t in tables.values()
    ]


def tables_from_data_sources(items: list[Mapping[str, object]]) -> dict[str, Table]:
    """Rebuild tables from ``/dataSources`` items (a real instance's schema for the checks).

    Fields AMC may leave out get safe defaults: type STRING, kind DIMENSION, threshold NONE.
    """
    tables: dict[str, Table] = {}
    for item in items:
        name = str(item.get("dataSourceId") or item.get("name") or "")
        if not name:
            continue
        columns = []
        for col in item.get("columns") or []:  # type: ignore[union-attr]
            threshold_name = str(col.get("aggregationThreshold") or "NONE").upper()
            kind_name = str(col.get("columnType") or "DIMENSION").upper()
            columns.append(
                Column(
                    name=str(col["name"]),
                    data_type=str(col.get("dataType") or "STRING").upper(),
                    kind=Kind(kind_name) if kind_name in Kind.__members__ else Kind.DIMENSION,
                    threshold=Threshold[threshold_name] if threshold_name in Threshold.__members__ else Threshold.NONE,
                    description=str(col.get("description") or ""),
                )
            )
        known = TABLES.get(name.lower())
        time_column = known.time_column if known else next((c.name for c in columns if c.name.endswith("_dt_utc")), "")
        tables[name.lower()] = Table(name, str(item.get("description") or ""), time_column, tuple(columns))
    return tables
