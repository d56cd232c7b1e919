"""HttpxUpstream: the upstream client on one pooled `httpx.AsyncClient` (HTTP/1.1, no env proxies)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

from modelserve.gateway.clients.base import (
    Body,
    ClientLimits,
    UpstreamBroken,
    UpstreamConnectFailed,
    UpstreamTimedOut,
    body_length,
    body_segments,
)


class _HttpxResponse:
    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.status = response.status_code
        self.headers = [(k.lower(), v) for k, v in response.headers.raw]

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.aiter_raw():
                yield chunk
        except httpx.TimeoutException as exc:
            raise UpstreamTimedOut(str(exc) or type(exc).__name__) from exc
        except httpx.HTTPError as exc:
            raise UpstreamBroken(str(exc) or type(exc).__name__) from exc

    async def aclose(self) -> None:
        await self._response.aclose()


class HttpxUpstream:
    """Pooled httpx client; `trust_env=False` so proxy variables never divert loopback traffic."""

    def __init__(self, limits: ClientLimits | None = None) -> None:
        lim = limits or ClientLimits()
        self._client = httpx.AsyncClient(
            limits=httpx.Limits(
                max_connections=lim.max_connections,
                max_keepalive_connections=lim.max_keepalive,
                keepalive_expiry=lim.keepalive_expiry_s,
            ),
            timeout=httpx.Timeout(
                connect=lim.connect_timeout_s,
                read=lim.read_timeout_s,
                write=lim.write_timeout_s,
                pool=lim.pool_timeout_s,
            ),
            trust_env=False,
            follow_redirects=False,
        )

    async def open(
        self, method: str, url: str, headers: list[tuple[bytes, bytes]], body: Body
    ) -> _HttpxResponse:
        if isinstance(body, bytes):
            request = self._client.build_request(method, url, headers=headers, content=body)
        else:  # an explicit length keeps httpx from chunking the segments
            headers = [*headers, (b"content-length", str(body_length(body)).encode())]
            request = self._client.build_request(method, url, headers=headers, content=body_segments(body))
        try:
            response = await self._client.send(request, stream=True)
        except httpx.ConnectTimeout as exc:
            raise UpstreamConnectFailed(f"connect timeout: {exc}") from exc
        except httpx.TimeoutException as exc:
            raise UpstreamTimedOut(str(exc) or type(exc).__name__) from exc
        except httpx.HTTPError as exc:
            # Refused, reset or closed before any response byte: the replica did not answer.
            raise UpstreamConnectFailed(str(exc) or type(exc).__name__) from exc
        return _HttpxResponse(response)

    async def aclose(self) -> None:
        await self._client.aclose()
