"""Async client for the Amazon Marketing Cloud reporting API."""

from amc_magic.client.auth import LwaTokenProvider, TokenProvider
from amc_magic.client.client import AmcClient
from amc_magic.client.credentials import DEFAULT_API_URL, DEFAULT_TOKEN_URL, Credentials, Endpoints
from amc_magic.client.models import TERMINAL_STATUSES, AmcExecution, InstanceRef, OutputColumn
from amc_magic.client.retry import RetryPolicy

__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_TOKEN_URL",
    "TERMINAL_STATUSES",
    "AmcClient",
    "AmcExecution",
    "Credentials",
    "Endpoints",
    "InstanceRef",
    "LwaTokenProvider",
    "OutputColumn",
    "RetryPolicy",
    "TokenProvider",
]
