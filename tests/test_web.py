"""The worker's web server, a real worker process: request bodies bounded by the page cap, and the inspection
views (the text of recent pages, the pipeline for the caller) kept from callers beyond the worker's host
unless they carry the bearer token; health, readiness and metrics open to all."""
from __future__ import annotations

import asyncio
import ipaddress
import socket

import aiohttp
import orjson
import pytest

from workers.localkafka import free_port

from .conftest import metric_value, wait_until_ready

pytestmark = pytest.mark.kafka
TOKEN = "inspect-token-9d3e"
HUNDRED_MB = 100 * 1024 * 1024
CHUNK = 1024 * 1024
OPEN_PATHS = ("/healthz", "/readyz", "/metrics")
INSPECTION_PATHS = ("/inspect", "/inspect/recent")
PAGE = {"url": "https://example.cn/inspected", "text": "第一段正文，内容充实。\n\n第二段正文也很充实，说明了很多事情。"}


def own_address() -> str | None:
    """This host's address on its network (not loopback), if it has one: a request from it is not local."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: it only picks the outgoing interface
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if ipaddress.ip_address(address).is_loopback else address


async def request(address: str, port: int, path: str, token: str | None = None, page: dict | None = None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        if page is None:
            async with session.get(f"http://{address}:{port}{path}", headers=headers) as response:
                return response.status
        async with session.post(f"http://{address}:{port}{path}", headers=headers, data=orjson.dumps(page)) as response:
            return response.status


async def status_line(reader: asyncio.StreamReader) -> int:
    return int((await reader.readline()).split()[1])


@pytest.fixture
async def open_worker(topics_for, start_worker):
    """A worker serving every interface without an inspection token; its web port."""
    settings = await topics_for()
    port = free_port()
    start_worker(settings, web_port=str(port), web_host="0.0.0.0")
    await wait_until_ready(port)
    return port


async def test_a_body_over_the_page_cap_is_refused_by_its_length_before_it_is_sent(open_worker):
    reader, writer = await asyncio.open_connection("127.0.0.1", open_worker)
    try:
        writer.write(b"POST /inspect/api HTTP/1.1\r\nHost: worker\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n" % HUNDRED_MB)
        await writer.drain()
        assert await asyncio.wait_for(status_line(reader), 30) == 413  # not one byte of the body sent
    finally:
        writer.close()


async def test_a_chunked_body_is_read_no_further_than_the_page_cap(open_worker):
    rss_before = await metric_value(open_worker, "process_resident_memory_bytes")
    reader, writer = await asyncio.open_connection("127.0.0.1", open_worker)
    answer = asyncio.ensure_future(status_line(reader))
    sent = 0
    try:
        writer.write(b"POST /inspect/api HTTP/1.1\r\nHost: worker\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        chunk = b"%x\r\n" % CHUNK + b"a" * CHUNK + b"\r\n"
        while sent < HUNDRED_MB and not answer.done():
            writer.write(chunk)
            await writer.drain()
            sent += CHUNK
        status = await asyncio.wait_for(answer, 30)
    finally:
        writer.close()
    grown = await metric_value(open_worker, "process_resident_memory_bytes") - rss_before
    print(f"inspect/api, a 100 MB chunked body: answered {status} after {sent / CHUNK:.0f} MB sent; "
          f"the worker's memory grew {grown / CHUNK:.1f} MB")
    assert status == 413
    assert sent < HUNDRED_MB / 2 and grown < 32 * CHUNK


async def test_without_a_token_inspection_answers_the_worker_own_host_only(open_worker):
    for path in (*OPEN_PATHS, *INSPECTION_PATHS):
        assert await request("127.0.0.1", open_worker, path) == 200, path
    assert await request("127.0.0.1", open_worker, "/inspect/api", page=PAGE) == 200
    address = own_address()
    if address is None:
        pytest.skip("this host has no address beyond loopback to call from")
    for path in OPEN_PATHS:
        assert await request(address, open_worker, path) == 200, path
    for path in INSPECTION_PATHS:
        assert await request(address, open_worker, path) == 403, path
    assert await request(address, open_worker, "/inspect/api", page=PAGE) == 403


async def test_with_a_token_inspection_answers_requests_that_carry_it(topics_for, start_worker, tmp_path):
    settings = await topics_for()
    port = free_port()
    start_worker(settings, web_port=str(port), web_host="0.0.0.0", inspect_token=TOKEN)
    await wait_until_ready(port)
    addresses = ["127.0.0.1", *filter(None, [own_address()])]
    for address in addresses:
        for path in (*OPEN_PATHS, "/inspect"):  # the page itself holds no data: a caller types the token into it
            assert await request(address, port, path) == 200, (address, path)
        for token in (None, "wrong-token"):
            assert await request(address, port, "/inspect/recent", token) == 401, (address, token)
            assert await request(address, port, "/inspect/api", token, page=PAGE) == 401, (address, token)
        assert await request(address, port, "/inspect/recent", TOKEN) == 200, address
        assert await request(address, port, "/inspect/api", TOKEN, page=PAGE) == 200, address
    async with aiohttp.ClientSession() as session:  # the token is never shown, nor logged
        for path in (*OPEN_PATHS, "/inspect"):
            async with session.get(f"http://127.0.0.1:{port}{path}") as response:
                assert TOKEN not in await response.text()
    assert TOKEN not in (tmp_path / "worker0.log").read_text(encoding="utf-8", errors="replace")
