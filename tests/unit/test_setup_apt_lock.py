# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""scripts/setup.sh waits (bounded, saying so) for the POSIX locks the machine's own apt holds.

apt and dpkg lock with fcntl record locks; this test holds one on a temporary file with
fcntl.lockf, exactly as apt does, and points the script at it (YELLOW_APT_LOCKS). Stub apt-get and
dpkg-query come first on PATH, so that a script without the wait reaches the stub apt-get (which
records that it ran while the lock was held) and nothing is installed.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SETUP = ROOT / "scripts" / "setup.sh"
WAITING = "waiting for {lock}, held by process {pid} (python"


def _stubs(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("apt-get", "dpkg-query"):
        stub = bin_dir / name
        stub.write_text(f'#!/bin/sh\necho "STUB {name} ran: $*" >>"{tmp_path}/stub.log"\nexit 1\n')
        stub.chmod(0o755)
    return dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}")


def _hold(path: Path) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.lockf(fd, fcntl.LOCK_EX)
    return fd


def test_waits_until_the_lock_is_released(tmp_path):
    lock = tmp_path / "lock-frontend"
    other = tmp_path / "lists-lock"  # free, and another path that does not exist: neither blocks
    fd = _hold(lock)
    env = dict(_stubs(tmp_path), YELLOW_APT_LOCKS=f"{other} {lock} {tmp_path / 'absent'}", YELLOW_APT_LOCK_TIMEOUT="3600")
    other.touch()
    process = subprocess.Popen(["bash", str(SETUP), "wait-apt-locks"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, env=env, cwd=tmp_path)
    try:
        first = process.stdout.readline()
        # The lock is released only once the script has said that it waits for it.
        assert WAITING.format(lock=lock, pid=os.getpid()) in first, first
        assert "waiting up to 3600 s (YELLOW_APT_LOCK_TIMEOUT)" in first
        assert process.poll() is None
    finally:
        os.close(fd)  # releases the lock
    rest = process.stdout.read()
    assert process.wait() == 0, first + rest
    assert "setup: apt/dpkg locks free after" in rest
    assert not (tmp_path / "stub.log").exists(), (tmp_path / "stub.log").read_text()


def test_gives_up_after_the_bound_with_a_clear_message(tmp_path):
    lock = tmp_path / "lock"
    fd = _hold(lock)
    try:
        env = dict(_stubs(tmp_path), YELLOW_APT_LOCKS=str(lock), YELLOW_APT_LOCK_TIMEOUT="2")
        result = subprocess.run(["bash", str(SETUP), "wait-apt-locks"], capture_output=True, text=True, env=env,
                                cwd=tmp_path, check=False)
    finally:
        os.close(fd)
    assert result.returncode == 1, result.stdout + result.stderr
    assert WAITING.format(lock=lock, pid=os.getpid()) in result.stdout
    assert f"setup: gave up after 2 s: {lock} is still held by process {os.getpid()} (python" in result.stderr
    assert "run again" in result.stderr
    assert not (tmp_path / "stub.log").exists(), (tmp_path / "stub.log").read_text()


def test_a_free_lock_does_not_wait(tmp_path):
    lock = tmp_path / "lock"
    lock.touch()
    env = dict(_stubs(tmp_path), YELLOW_APT_LOCKS=str(lock), YELLOW_APT_LOCK_TIMEOUT="0")
    result = subprocess.run(["bash", str(SETUP), "wait-apt-locks"], capture_output=True, text=True, env=env,
                            cwd=tmp_path, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == result.stderr == ""


def test_apt_is_run_only_after_the_wait_and_with_the_frontend_timeout():
    text = SETUP.read_text()
    body = text[text.index("install_system_packages() {"):]
    body = body[:body.index("\n}\n")]
    assert body.count("wait_for_apt_locks") == 2
    assert body.index("wait_for_apt_locks") < body.index("apt-get -o DPkg::Lock::Timeout=\"$apt_lock_timeout\" update")
    assert 'apt-get -o DPkg::Lock::Timeout="$apt_lock_timeout" install' in body
