"""The running server's protections: Host and Origin checks, XSRF on uploads, the upload limit, no static files."""

from __future__ import annotations

import base64
import os
import socket
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.e2e.conftest import upload_endpoint, use_uploads
from ui.dataset import MAX_UPLOAD_MB


def raw_request(url: str, lines: list[str], body: bytes = b"") -> str:
    """Send a hand-written HTTP/1.1 request; return the status line of the answer."""
    parts = urllib.parse.urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        answer = b""
        while b"\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer.split(b"\r\n", 1)[0].decode()


def websocket_status(url: str, host: str, origin: str | None) -> str:
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        "GET /_stcore/stream HTTP/1.1", f"Host: {host}", "Upgrade: websocket", "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13", "Sec-WebSocket-Protocol: streamlit",
    ]
    if origin:
        lines.append(f"Origin: {origin}")
    return raw_request(url, lines)


def test_websocket_only_for_local_host_names_and_same_origin(app_url):
    local = urllib.parse.urlsplit(app_url).netloc
    assert " 101 " in websocket_status(app_url, local, app_url)
    # DNS rebinding: a page on another name that resolves to this machine.
    assert " 101 " not in websocket_status(app_url, "evil.example:80", "http://evil.example")
    # Another site in the user's browser talking to the local app.
    assert " 101 " not in websocket_status(app_url, local, "http://evil.example")


def test_no_cross_origin_access(app_url):
    request = urllib.request.Request(f"{app_url}/_stcore/health", headers={"Origin": "http://evil.example"})
    with urllib.request.urlopen(request, timeout=10) as response:
        allowed = response.headers.get("Access-Control-Allow-Origin")
    assert allowed in (None, app_url), allowed


def test_static_serving_is_off(app_url):
    for path in ("/app/static/app.py", "/app/static/../app.py", "/app/static/.streamlit/config.toml"):
        try:
            with urllib.request.urlopen(f"{app_url}{path}", timeout=10) as response:
                body = response.read()
        except urllib.error.HTTPError as error:
            assert error.code in (400, 403, 404), (path, error.code)
            continue
        assert b"import streamlit" not in body and b"enableXsrfProtection" not in body, path


@pytest.mark.start_page("data")
def test_uploads_need_the_xsrf_token_and_respect_the_limit(page, app_url):
    use_uploads(page)
    endpoint = upload_endpoint(page, app_url)
    path, token, host = endpoint.path, endpoint.token, endpoint.host
    body = b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.csv\"\r\n\r\nx,y\n1,2\n\r\n--b--\r\n"
    common = [f"Host: {host}", "Content-Type: multipart/form-data; boundary=b", "Connection: close"]
    without_token = raw_request(app_url, [f"PUT {path}-2 HTTP/1.1", *common, f"Content-Length: {len(body)}"], body)
    assert " 403 " in without_token, without_token
    too_big = raw_request(
        app_url,
        [f"PUT {path}-3 HTTP/1.1", *common, f"Cookie: _streamlit_xsrf={token}", f"X-Xsrftoken: {token}",
         f"Content-Length: {MAX_UPLOAD_MB * 1024**2 + 1}"],
        body,
    )
    assert " 413 " in too_big, too_big
