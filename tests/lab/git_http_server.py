#!/usr/bin/env python
# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""A git smart-HTTP server for the lab and tests: real ``git http-backend`` behind HTTP Basic auth.

Serves the bare repositories under ``--root`` (``http://HOST:PORT/<name>.git``) the way GitHub or GitLab
serve HTTPS remotes: every request needs the user and token from ``--credentials-file`` (one line
``user:token``, read once at start, mode 0600), a wrong or missing one gets ``401`` with a Basic
challenge (so git asks its credential helper / ``GIT_ASKPASS``), and pushes run ``git-receive-pack`` for
the authenticated user. With ``--any-user`` the token alone authenticates, whatever the (non-empty) user
name, as GitHub and GitLab take an access token: what DataSurface's Jobs send, which have a token and no
user. Each request is logged as one JSON line to ``--log`` (method, path, user or null, status): tests read
it to prove that credentials were sent and pushes happened, or did not.

Standard library only:  python3 git_http_server.py --root DIR --credentials-file FILE [--port 0]
  [--any-user] [--log FILE] [--url-file FILE] [--pidfile FILE]; the URL is printed on stdout once it listens.
"""

from __future__ import annotations

import argparse
import base64
import hmac
import json
import os
import signal
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Optional, Tuple


def read_credentials(path: Path) -> Tuple[str, str]:
    user, _colon, token = path.read_text(encoding="utf-8").strip().partition(":")
    if not user or not token:
        raise SystemExit(f"{path}: expected one line 'user:token'")
    return user, token


class GitHandler(BaseHTTPRequestHandler):
    server: "GitServer"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
        pass

    def do_GET(self) -> None:  # noqa: N802
        self._serve()

    def do_POST(self) -> None:  # noqa: N802
        self._serve()

    def _user(self) -> Optional[str]:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        try:
            user, _colon, token = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except ValueError:
            return None
        want_user, want_token = self.server.credentials
        user_ok = bool(user) if self.server.any_user else hmac.compare_digest(user, want_user)
        if hmac.compare_digest(token, want_token) and user_ok:
            return user
        return None

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _serve(self) -> None:
        path, _mark, query = self.path.partition("?")
        body = self._body() if self.command == "POST" else b""
        user = self._user()
        if user is None:
            self._record(path, None, 401)
            payload = b"authentication required\n"
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="yellow-git"')
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(self.server.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REMOTE_USER": user,
            "REMOTE_ADDR": self.client_address[0],
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
            "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
        }
        result = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True, check=False)
        head, _blank, payload = result.stdout.partition(b"\r\n\r\n")
        status = 200
        headers = []
        for line in head.decode("latin-1").split("\r\n"):
            name, _colon, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            elif name:
                headers.append((name, value.strip()))
        if result.returncode != 0 and not head:
            status, payload = 500, result.stderr
        self._record(path, user, status)
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _record(self, path: str, user: Optional[str], status: int) -> None:
        if self.server.log is None:
            return
        line = json.dumps({"method": self.command, "path": path, "user": user, "status": status})
        with self.server.log_lock, open(self.server.log, "a", encoding="utf-8") as log:
            log.write(line + "\n")


class GitServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: Tuple[str, int], root: Path, credentials: Tuple[str, str], log: Optional[Path]) -> None:
        super().__init__(address, GitHandler)
        self.root = root
        self.credentials = credentials
        self.log = log
        self.log_lock = threading.Lock()
        self.any_user = False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--root", type=Path, required=True, help="directory holding the bare repositories")
    parser.add_argument("--credentials-file", type=Path, required=True, help="file with one line user:token")
    parser.add_argument("--any-user", action="store_true", help="accept the token with any (non-empty) user name")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log", type=Path, help="append one JSON line per request here")
    parser.add_argument("--url-file", type=Path, help="write the base URL here")
    parser.add_argument("--pidfile", type=Path, help="write the process id here")
    args = parser.parse_args()

    server = GitServer((args.host, args.port), args.root.resolve(), read_credentials(args.credentials_file), args.log)
    server.any_user = args.any_user
    url = f"http://{args.host}:{server.server_address[1]}"
    if args.pidfile:
        args.pidfile.write_text(f"{os.getpid()}\n", encoding="utf-8")
    if args.url_file:
        args.url_file.write_text(url + "\n", encoding="utf-8")
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(url, flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        if args.pidfile:
            args.pidfile.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
