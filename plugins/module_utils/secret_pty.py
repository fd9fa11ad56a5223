# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Run a command that asks for a password on its terminal, answering through a pseudo-terminal.

The password is written to the child's pty when it prompts: it is never part of any process's
arguments or environment, and it is removed from the output returned.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time

PROMPT = b"assword:"


class CommandTimeout(Exception):
    """The command did not finish in time (it has been killed)."""

    def __init__(self, output):
        super().__init__("timed out")
        self.output = output


def scrub(text, secret):
    """``text`` with every occurrence of ``secret`` replaced."""
    if secret:
        text = text.replace(secret, "********")
    return text


def _kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


def run_plain(argv, timeout):
    """Run ``argv`` without a terminal; returns (rc, combined output). Raises CommandTimeout."""
    process = subprocess.Popen(  # pylint: disable=consider-using-with
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        output, _unused = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process.pid)
        output, _unused = process.communicate()
        raise CommandTimeout(output.decode("utf-8", "replace")) from None
    return process.returncode, output.decode("utf-8", "replace")


def run_with_password(argv, password, timeout, prompt=PROMPT):
    """Run ``argv`` on a pty and type ``password`` when it prompts; returns (rc, output)."""
    pid, fd = os.forkpty()
    if pid == 0:  # child: its own session (forkpty), the pty as its terminal
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)  # pylint: disable=protected-access
    deadline = time.monotonic() + timeout
    chunks = []
    answered = False
    seen = b""
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                _kill_group(pid)
                os.waitpid(pid, 0)
                raise CommandTimeout(scrub(b"".join(chunks).decode("utf-8", "replace"), password))
            ready, _w, _x = select.select([fd], [], [], min(remaining, 1.0))
            if not ready:
                continue
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
            if not answered:
                seen = (seen + data)[-256:]
                if prompt in seen:
                    os.write(fd, password.encode("utf-8") + b"\n")
                    answered = True
        _pid, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
    rc = os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else (status >> 8)
    return rc, scrub(b"".join(chunks).decode("utf-8", "replace"), password)
