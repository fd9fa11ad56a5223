# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Stand-in for DataSurface's MCP server: ``python -m datasurface.cmd.mcp serve --model M --git-repo URL --psp PSP
[--rte-name N] [--port 8000]``, what the generated MCP Deployment runs (tests/generator_stub/README.md).

Serves HTTP on 0.0.0.0:PORT: ``GET /health`` (and ``/``) answers ``{"status": "ok", "psp": ...}``; ``POST /mcp``
speaks just enough JSON-RPC 2.0 of the Model Context Protocol for a client to connect (``initialize``,
``ping``, ``tools/list`` with no tools); anything else is a JSON-RPC "method not found". It reads no model
and no credentials. Standard library only; one log line per request on stdout, SIGTERM stops it.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PROTOCOL_VERSION = "2025-06-18"


class Handler(BaseHTTPRequestHandler):
    server: "McpServer"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base class's name)
        print(f"mcp: {self.command} {self.path} {args[1] if len(args) > 1 else ''}".rstrip(), flush=True)

    def _json(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        if self.path in ("/", "/health"):
            self._json(200, {"status": "ok", "psp": self.server.psp, "rte_name": self.server.rte_name})
        else:
            self._json(404, {"error": f"no such path {self.path}"})

    def do_POST(self) -> None:  # noqa: N802
        if self.path.rstrip("/") != "/mcp":
            self._json(404, {"error": f"no such path {self.path}"})
            return
        try:
            request = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")
            method, ident = request["method"], request.get("id")
        except (ValueError, TypeError, KeyError):
            self._json(400, {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}})
            return
        if method == "initialize":
            result = {"protocolVersion": PROTOCOL_VERSION, "capabilities": {"tools": {}},
                      "serverInfo": {"name": f"datasurface-stand-in-{self.server.psp}", "version": "0"}}
        elif method == "ping":
            result = {}
        elif method == "tools/list":
            result = {"tools": []}
        elif ident is None:  # a notification (notifications/initialized...): nothing to answer
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        else:
            self._json(200, {"jsonrpc": "2.0", "id": ident, "error": {"code": -32601, "message": f"method not found: {method}"}})
            return
        self._json(200, {"jsonrpc": "2.0", "id": ident, "result": result})


class McpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, psp: str, rte_name):
        super().__init__(address, Handler)
        self.psp = psp
        self.rte_name = rte_name


def main(argv=None) -> int:
    top = argparse.ArgumentParser(prog="python -m datasurface.cmd.mcp", description="DataSurface MCP server (stand-in)")
    commands = top.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the MCP endpoint")
    serve.add_argument("--model", required=True)
    serve.add_argument("--git-repo", dest="git_repo", required=True)
    serve.add_argument("--psp", required=True)
    serve.add_argument("--rte-name", dest="rte_name")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=8000)
    args = top.parse_args(argv)
    server = McpServer((args.host, args.port), args.psp, args.rte_name)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"mcp: serving PSP {args.psp} on {args.host}:{server.server_address[1]} (stand-in)", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
