"""AiohttpUpstream: the upstream client on one pooled `aiohttp.ClientSession` (optional dependency).

Created inside the running event loop (aiohttp binds its session to it), i.e. from `Gateway.start()`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from multidict import CIMultiDict

from modelserve.gateway.clients.base import (
    Body,
    ClientLimits,
    UpstreamBroken,
    UpstreamConnectFailed,
    UpstreamTimedOut,
    body_length,
    body_segments,
)


class _AiohttpResponse:
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.status = response.status
        self.headers = [(k.lower(), v) for k, v in response.raw_headers]

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except asyncio.TimeoutError as exc:
            raise UpstreamTimedOut("read timeout") from exc
        except aiohttp.ClientError as exc:
            raise UpstreamBroken(str(exc) or type(exc).__name__) from exc

    async def aclose(self) -> None:
        # A body not read to the end leaves the connection mid-response: close it, never reuse it.
        if self._response.content.at_eof():
            self._response.release()
        else:
            self._response.close()


class AiohttpUpstream:
    """Pooled aiohttp session; no automatic decompression, no environment proxies."""

    def __init__(self, limits: ClientLimits | None = None) -> None:
        lim = limits or ClientLimits()
        connector = aiohttp.TCPConnector(
            limit=lim.max_connections, limit_per_host=0, keepalive_timeout=lim.keepalive_expiry_s
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(
                total=None,
                connect=lim.pool_timeout_s,
                sock_connect=lim.connect_timeout_s,
                sock_read=lim.read_timeout_s,
            ),
            auto_decompress=False,
            trust_env=False,
            skip_auto_headers=("User-Agent", "Content-Type"),
        )

    async def open(
        self, method: str, url: str, headers: list[tuple[bytes, bytes]], body: Body
    ) -> _AiohttpResponse:
        hdrs = CIMultiDict((k.decode("latin-1"), v.decode("latin-1")) for k, v in headers)
        data: Any = body
        if not isinstance(body, bytes):
            hdrs["Content-Length"] = str(body_length(body))  # sent as is, not chunked
            data = body_segments(body)
        try:
            response = await self._session.request(
                method, url, data=data, headers=hdrs, allow_redirects=False
            )
        except aiohttp.ConnectionTimeoutError as exc:
            raise UpstreamConnectFailed("connect timeout") from exc
        except asyncio.TimeoutError as exc:
            raise UpstreamTimedOut("read timeout") from exc
        except aiohttp.ClientError as exc:
            raise UpstreamConnectFailed(str(exc) or type(exc).__name__) from exc
        return _AiohttpResponse(response)

    async def aclose(self) -> None:
        await self._session.close()
