# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""git_checkout / git_publish logic against real git: local bare repositories and the smart-HTTP lab server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ansible_collections.datasurface.yellow.plugins.module_utils.git import Git, GitError, checkout, publish, repo_url_problem

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "ghp_s3cr3t 'tok'; $(id)"


def sh(*args: str, cwd: Path | None = None) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.invalid")
    return subprocess.run(args, cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture(name="remote")
def fixture_remote(tmp_path: Path) -> Path:
    """A bare repository with two commits on main and a tag v1 on the first."""
    bare = tmp_path / "remote.git"
    sh("git", "init", "-q", "--bare", "-b", "main", str(bare))
    work = tmp_path / "seed"
    sh("git", "clone", "-q", str(bare), str(work))
    (work / "eco.py").write_text("VERSION = 1\n")
    sh("git", "add", ".", cwd=work)
    sh("git", "commit", "-q", "-m", "one", cwd=work)
    sh("git", "tag", "-a", "v1", "-m", "v1", cwd=work)
    (work / "eco.py").write_text("VERSION = 2\n")
    sh("git", "commit", "-q", "-am", "two", cwd=work)
    sh("git", "push", "-q", "--tags", "origin", "main", cwd=work)
    return bare


def head(bare: Path, ref: str = "main") -> str:
    return sh("git", "--git-dir", str(bare), "rev-parse", ref + "^{commit}")


def test_checkout_tag_branch_and_commit(tmp_path: Path, remote: Path) -> None:
    dest = str(tmp_path / "model")
    with Git() as git:
        first = checkout(git, str(remote), dest, "v1")
        assert first["changed"] and first["before"] is None and first["commit"] == head(remote, "v1")
        assert Path(dest, "eco.py").read_text() == "VERSION = 1\n"
        again = checkout(git, str(remote), dest, "v1")
        assert not again["changed"]
        moved = checkout(git, str(remote), dest, "main")
        assert moved["changed"] and moved["commit"] == head(remote)
        by_sha = checkout(git, str(remote), dest, head(remote, "v1")[:12])
        assert by_sha["changed"] and Path(dest, "eco.py").read_text() == "VERSION = 1\n"


def test_checkout_discards_local_changes(tmp_path: Path, remote: Path) -> None:
    dest = tmp_path / "model"
    with Git() as git:
        checkout(git, str(remote), str(dest), "main")
        (dest / "eco.py").write_text("tampered\n")
        (dest / "stray.pyc").write_text("x")
        result = checkout(git, str(remote), str(dest), "main")
    assert result["changed"]
    assert (dest / "eco.py").read_text() == "VERSION = 2\n" and not (dest / "stray.pyc").exists()


def test_checkout_check_mode_writes_nothing(tmp_path: Path, remote: Path) -> None:
    dest = tmp_path / "model"
    with Git() as git:
        result = checkout(git, str(remote), str(dest), "v1", check_mode=True)
        assert result["changed"] and result["commit"] == head(remote, "v1")
        assert not dest.exists()
        checkout(git, str(remote), str(dest), "v1")
        assert not checkout(git, str(remote), str(dest), "v1", check_mode=True)["changed"]
        assert checkout(git, str(remote), str(dest), "main", check_mode=True)["changed"]
        assert (dest / "eco.py").read_text() == "VERSION = 1\n"


def test_checkout_unknown_version(tmp_path: Path, remote: Path) -> None:
    with Git() as git, pytest.raises(GitError) as info:
        checkout(git, str(remote), str(tmp_path / "m"), "v9")
    assert info.value.kind == "not_found" and "'v9'" in str(info.value)


def test_checkout_refuses_a_foreign_directory(tmp_path: Path, remote: Path) -> None:
    dest = tmp_path / "busy"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine")
    with Git() as git, pytest.raises(GitError, match="not empty and is not a git checkout"):
        checkout(git, str(remote), str(dest), "main")


def _dag(tmp_path: Path, text: str, name: str = "test_dp_infrastructure_dag.py") -> str:
    path = tmp_path / "out" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return str(path)


def _log(bare: Path) -> list[str]:
    return sh("git", "--git-dir", str(bare), "log", "--format=%an <%ae> %s", "main").splitlines()


def test_publish_commits_only_changes_and_keeps_other_files(tmp_path: Path, remote: Path) -> None:
    dag = _dag(tmp_path, "dag = 1\n")
    dest = str(tmp_path / "dagrepo")
    with Git() as git:
        first = publish(git, str(remote), dest, "main", [dag], "dags", "Add the DAG", "Yellow Bot", "bot@example.invalid")
        assert first["changed"] and first["pushed"] and first["files"][0]["status"] == "added"
        assert first["commit"] == head(remote)
        second = publish(git, str(remote), dest, "main", [dag], "dags", "Add the DAG", "Yellow Bot", "bot@example.invalid")
        assert not second["changed"] and not second["pushed"] and second["commit"] == first["commit"]
        Path(dag).write_text("dag = 2\n")
        preview = publish(git, str(remote), dest, "main", [dag], "dags", "Update", "Yellow Bot", "bot@example.invalid",
                          check_mode=True)
        assert preview["changed"] and not preview["pushed"] and head(remote) == first["commit"]
        assert preview["diff"][0]["before"] == "dag = 1\n" and preview["diff"][0]["after"] == "dag = 2\n"
        third = publish(git, str(remote), dest, "main", [dag], "dags", "Update", "Yellow Bot", "bot@example.invalid")
        assert third["changed"] and third["files"][0]["status"] == "changed"
    assert _log(remote)[:2] == ["Yellow Bot <bot@example.invalid> Update", "Yellow Bot <bot@example.invalid> Add the DAG"]
    tree = sh("git", "--git-dir", str(remote), "ls-tree", "-r", "--name-only", "main").splitlines()
    assert tree == ["dags/test_dp_infrastructure_dag.py", "eco.py"]


def test_publish_into_an_empty_repository(tmp_path: Path) -> None:
    bare = tmp_path / "empty.git"
    sh("git", "init", "-q", "--bare", "-b", "main", str(bare))
    dag = _dag(tmp_path, "dag = 1\n")
    with Git() as git:
        result = publish(git, str(bare), str(tmp_path / "c"), "main", [dag], "dags", "First DAG", "a", "a@example.invalid")
        assert result["changed"] and result["before"] is None and result["pushed"]
        assert not publish(git, str(bare), str(tmp_path / "c"), "main", [dag], "dags", "m", "a", "a@example.invalid")["changed"]
    assert _log(bare) == ["a <a@example.invalid> First DAG"]


def test_publish_retries_when_the_branch_moved(tmp_path: Path, remote: Path) -> None:
    """Someone pushes between our fetch and our push: the push is redone on top of their commit."""
    dag = _dag(tmp_path, "dag = 1\n")
    other = tmp_path / "other"
    sh("git", "clone", "-q", str(remote), str(other))

    class RacingGit(Git):
        raced = False

        def run(self, args, cwd=None, check=True):  # type: ignore[no-untyped-def]
            if args[0] == "push" and not self.raced:
                self.raced = True
                (other / "README").write_text("theirs\n")
                sh("git", "add", ".", cwd=other)
                sh("git", "commit", "-q", "-m", "theirs", cwd=other)
                sh("git", "push", "-q", "origin", "main", cwd=other)
            return super().run(args, cwd=cwd, check=check)

    with RacingGit() as git:
        result = publish(git, str(remote), str(tmp_path / "c"), "main", [dag], "dags", "ours", "a", "a@example.invalid")
    assert result["pushed"]
    assert [line.split()[-1] for line in _log(remote)[:2]] == ["ours", "theirs"]


@pytest.mark.parametrize("url,problem", [
    ("https://user:tok@github.com/o/r.git", "must not carry credentials"),
    ("https://tok@github.com/o/r.git", "must not carry credentials"),
    ("github.com/o/r", "is not a git remote URL"),
    ("", "must be a git remote URL"),
    ("https:///r.git", "has no host"),
])
def test_repo_url_problems(url: str, problem: str) -> None:
    assert problem in (repo_url_problem(url) or "")


@pytest.mark.parametrize("url", ["https://github.com/o/r.git", "git@github.com:o/r.git", "ssh://git@h/o/r.git", "/srv/git/r.git"])
def test_repo_urls_accepted(url: str) -> None:
    assert repo_url_problem(url) is None


@pytest.fixture(name="http_remote")
def fixture_http_remote(tmp_path: Path, remote: Path):  # type: ignore[no-untyped-def]
    """The lab's smart-HTTP server (real git http-backend, Basic auth) serving ``remote``."""
    creds = tmp_path / "creds"
    creds.write_text(f"alice:{TOKEN}\n")
    creds.chmod(0o600)
    log = tmp_path / "requests.log"
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests/lab/git_http_server.py"), "--root", str(remote.parent),
                             "--credentials-file", str(creds), "--log", str(log)], stdout=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip()  # type: ignore[union-attr]
    yield f"{url}/{remote.name}", log
    proc.terminate()
    proc.wait(timeout=10)


def test_http_token_reaches_the_server_and_nothing_else(tmp_path: Path, http_remote, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    url, log = http_remote
    home = tmp_path / "home"
    home.mkdir()
    # A user whose git stores every credential it sees: our commands must not feed it the token.
    (home / ".gitconfig").write_text("[credential]\n\thelper = store\n")
    monkeypatch.setenv("HOME", str(home))
    dag = _dag(tmp_path, "dag = 1\n")
    with Git("alice", TOKEN) as git:
        checkout(git, url, str(tmp_path / "model"), "v1")
        publish(git, url, str(tmp_path / "dags"), "main", [dag], "dags", "m", "a", "a@example.invalid")
    requests = [json.loads(line) for line in log.read_text().splitlines()]
    assert any(r["path"].endswith("git-receive-pack") and r["user"] == "alice" and r["status"] == 200 for r in requests)
    assert not (home / ".git-credentials").exists()
    for path in (tmp_path / "model", tmp_path / "dags"):
        for file in (path / ".git").rglob("*"):
            if file.is_file():
                assert TOKEN.encode() not in file.read_bytes(), file


def test_http_wrong_token_is_an_auth_failure_without_the_token(tmp_path: Path, http_remote) -> None:  # type: ignore[no-untyped-def]
    url = http_remote[0]
    started = time.monotonic()
    wrong = TOKEN + "-wrong"
    with Git("alice", wrong) as git, pytest.raises(GitError) as info:
        checkout(git, url, str(tmp_path / "model"), "v1")
    assert info.value.kind == "auth"
    assert wrong not in str(info.value) and TOKEN not in str(info.value)
    assert time.monotonic() - started < 30  # no prompt waiting for a terminal


def test_scrub_hides_the_token() -> None:
    with Git("u", TOKEN) as git:
        assert git.scrub(f"fatal: bad {TOKEN} here") == "fatal: bad ******** here"
