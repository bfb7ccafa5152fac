"""Result files and the pre-signed links that serve them.

A succeeded execution's rows are served as CSV files with a header row, ``rows_per_file`` rows each
(an empty result is one header-only file), plus one JSON metadata file. The links imitate S3
pre-signed URLs: ``X-Amz-Date``, ``X-Amz-Expires`` and an HMAC ``X-Amz-Signature`` in the query
string. An expired link answers 403 ``AccessDenied`` ("Request has expired"), a tampered one 403
``SignatureDoesNotMatch``, and a request that also carries an ``Authorization`` header 400
``InvalidArgument``, all as S3's XML error documents.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import io
import math
import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode
from xml.sax.saxutils import escape

import pyarrow as pa
import pyarrow.csv as pa_csv
import sqlglot
from sqlglot import exp

from .config import Clock
from .dialect import AmcSql

_DATE_FORMAT = "%Y%m%dT%H%M%SZ"


def part_count(num_rows: int, rows_per_file: int) -> int:
    """How many CSV files a result of ``num_rows`` rows is split into (at least one)."""
    return max(1, math.ceil(num_rows / rows_per_file))


def csv_part(table: pa.Table, index: int, rows_per_file: int, delimiter: str = ",") -> bytes:
    """File ``index`` (0-based) of the result, as CSV with a header row."""
    buffer = io.BytesIO()
    part = table.slice(index * rows_per_file, rows_per_file)
    pa_csv.write_csv(part, buffer, pa_csv.WriteOptions(delimiter=delimiter))
    return buffer.getvalue()


def output_columns(sql: str, columns: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    """AMC's ``outputColumns``: name, AMC data type, and DIMENSION or METRIC.

    A column is a METRIC when its expression aggregates (``SUM``, ``COUNT`` ...) or names a column
    some sub-query or CTE aggregated; everything else is a DIMENSION.
    """
    metrics = _metric_names(sql)
    return [
        {"name": name, "dataType": data_type, "columnType": "METRIC" if name.lower() in metrics else "DIMENSION"}
        for name, data_type in columns
    ]


def _metric_names(sql: str) -> set[str]:
    try:
        tree = sqlglot.parse_one(sql, read=AmcSql)
    except sqlglot.errors.ParseError:
        return set()
    aggregated = {
        projection.alias_or_name.lower()
        for select in tree.find_all(exp.Select)
        for projection in select.expressions
        if projection.find(exp.AggFunc)
    }
    outer = tree
    while isinstance(outer, exp.SetOperation):
        outer = outer.left
    if not isinstance(outer, exp.Select):
        return aggregated
    return {
        projection.alias_or_name.lower()
        for projection in outer.expressions
        if projection.find(exp.AggFunc)
        or any(column.name.lower() in aggregated for column in projection.find_all(exp.Column))
    }


class LinkStatus(enum.Enum):
    VALID = "valid"
    EXPIRED = "expired"
    INVALID = "invalid"


class LinkSigner:
    """Signs and checks download links with a per-sandbox secret key."""

    def __init__(self, *, clock: Clock, lifetime_seconds: int) -> None:
        self._key = secrets.token_bytes(32)
        self._clock = clock
        self._lifetime = lifetime_seconds

    def sign(self, path: str) -> str:
        """The query string that makes ``path`` downloadable until the link expires."""
        date = self._clock().astimezone(UTC).strftime(_DATE_FORMAT)
        expires = str(self._lifetime)
        return urlencode(
            {
                "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
                "X-Amz-Date": date,
                "X-Amz-Expires": expires,
                "X-Amz-Signature": self._signature(path, date, expires),
            }
        )

    def check(self, path: str, query: Mapping[str, str]) -> LinkStatus:
        """Whether the signed ``query`` still grants access to ``path``."""
        date, expires, signature = (query.get(k, "") for k in ("X-Amz-Date", "X-Amz-Expires", "X-Amz-Signature"))
        if not hmac.compare_digest(signature, self._signature(path, date, expires)):
            return LinkStatus.INVALID
        try:
            signed_at = datetime.strptime(date, _DATE_FORMAT).replace(tzinfo=UTC)
            deadline = signed_at + timedelta(seconds=int(expires))
        except ValueError:
            return LinkStatus.INVALID
        return LinkStatus.VALID if self._clock() < deadline else LinkStatus.EXPIRED

    def _signature(self, path: str, date: str, expires: str) -> str:
        message = f"{path}\n{date}\n{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()


def s3_error_xml(code: str, message: str, request_id: str) -> str:
    """An S3 error document."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        f"<RequestId>{escape(request_id)}</RequestId></Error>"
    )
