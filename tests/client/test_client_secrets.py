"""Secrets and tokens never reach logs, exceptions or reprs, even at DEBUG."""

import io
import logging

import httpx
import pytest
from client_support import (
    CLIENT_SECRET,
    INSTANCE,
    REFRESH_TOKEN,
    LoginWithAmazon,
    Router,
    amc_error,
    execution_json,
    make_client,
)

from amc_magic.errors import AmcMagicError

ISSUED = [f"Atza|access-{n}-tokenvalue" for n in range(1, 6)]


def everything_goes_wrong_once():
    answers = [
        amc_error(401, "Authentication failed"),  # forces a refresh
        httpx.Response(200, json=execution_json()),
        amc_error(503, "down"),
        httpx.Response(200, json=execution_json(status="SUCCEEDED")),
        httpx.Response(200, json={"downloadUrls": ["https://s3.test/1.csv?X-Amz-Signature=presigned"]}),
        httpx.Response(200, content=b"a\n1\n"),
        amc_error(403, "no access"),
    ]
    return lambda request: answers.pop(0)


async def test_debug_logs_and_errors_hold_no_secret_or_token(caplog):
    caplog.set_level(logging.DEBUG)
    router = Router(everything_goes_wrong_once())
    errors: list[AmcMagicError] = []
    async with make_client(router) as client:
        await client.create_execution(INSTANCE, {"workflow": {"sqlQuery": "SELECT 1"}})
        await client.get_execution(INSTANCE, "e-1")
        [url] = await client.download_urls(INSTANCE, "e-1")
        await client.download(url, io.BytesIO())
        with pytest.raises(AmcMagicError) as caught:
            await client.list_accounts()
        errors.append(caught.value)
        client_repr = repr(client)
    async with make_client(Router(lambda r: None, LoginWithAmazon(error=(400, "invalid_grant")))) as refused:
        with pytest.raises(AmcMagicError) as caught:
            await refused.list_accounts()
        errors.append(caught.value)

    assert len(router.lwa.requests) == 2  # the 401 did cause a refresh
    assert "'authorization': '***'" in caplog.text  # headers are logged, masked
    texts = [caplog.text, client_repr, *(str(e) for e in errors), *(repr(e) for e in errors)]
    texts += [repr(vars(e)) for e in errors]
    for secret in (CLIENT_SECRET, REFRESH_TOKEN, *ISSUED, "presigned"):
        for text in texts:
            assert secret not in text
