# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Token-safe git for the bootstrap: check out a repository at a ref, publish files into a branch.

The token never reaches a command line, a stored remote URL, git's credential store or an error message:
git runs with ``GIT_ASKPASS`` pointing at a small script (in a private 0700 directory) that prints the
user name and token from this process's environment, git's configured credential helpers are switched
off for these commands (``credential.helper`` reset through ``GIT_CONFIG_*`` variables), terminal
prompts are off, and every output that is shown is scrubbed of the token.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from typing import Any, Dict, List, Optional, Sequence
from urllib.parse import urlsplit

ASKPASS = """#!/bin/sh
# git asks "Username for ...:" then "Password for ...:"; answer from the environment.
case "$1" in
  Username*) printf '%s\\n' "$YELLOW_GIT_USERNAME" ;;
  *) printf '%s\\n' "$YELLOW_GIT_PASSWORD" ;;
esac
"""
SHA = re.compile(r"^[0-9a-f]{7,64}$")
# Errors git prints when the remote refused the credentials (or got none).
AUTH_ERRORS = ("Authentication failed", "could not read Username", "could not read Password", "HTTP Basic: Access denied",
               "terminal prompts disabled", "403")


class GitError(Exception):
    """A git command failed; ``kind`` is ``auth``, ``not_found``, ``rejected``, ``timeout`` or ``error``."""

    def __init__(self, message: str, kind: str = "error") -> None:
        super().__init__(message)
        self.kind = kind


def repo_url_problem(url: Any, check_credentials: bool = True) -> Optional[str]:
    """Why ``url`` is not a remote we accept (credentials must not be embedded), or None.

    The roles' input layer refuses credentials in every URL itself (check_credentials=False there).
    """
    if not isinstance(url, str) or not url.strip():
        return "must be a git remote URL (https://..., ssh://..., git@host:path or a local path)"
    if url.startswith(("http://", "https://", "ssh://", "git://", "file://")):
        parts = urlsplit(url)
        if check_credentials and parts.scheme in ("http", "https") and (parts.username or parts.password):
            return "must not carry credentials: give the user and token as username/token (vault), never in the URL"
        if parts.scheme != "file" and not parts.hostname:
            return f"{url!r} has no host"
        return None
    if re.match(r"^[\w.-]+@[\w.-]+:", url) or url.startswith("/"):
        return None
    return f"{url!r} is not a git remote URL (https://..., ssh://..., git@host:path or an absolute local path)"


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(65536), b""):
            digest.update(block)
    return digest.hexdigest()


class Git:
    """Runs git in ``workdir`` with the askpass environment. Use as a context manager."""

    def __init__(self, username: Optional[str] = None, token: Optional[str] = None, timeout: int = 300,
                 executable: str = "git") -> None:
        self.token = token or ""
        self.timeout = timeout
        self.executable = executable
        self._private = tempfile.mkdtemp(prefix="yellow-git-")
        os.chmod(self._private, 0o700)
        askpass = os.path.join(self._private, "askpass")
        with open(askpass, "w", encoding="utf-8") as handle:
            handle.write(ASKPASS)
        os.chmod(askpass, 0o700)
        env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
        env.update({
            "GIT_ASKPASS": askpass,
            "GIT_TERMINAL_PROMPT": "0",
            # `credential.helper=` (empty) resets the helper list: no helper stores or offers a token.
            "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": "credential.helper",
            "GIT_CONFIG_VALUE_0": "",
            "YELLOW_GIT_USERNAME": username or "git",
            "YELLOW_GIT_PASSWORD": self.token,
            "LC_ALL": "C",
        })
        self.env = env

    def __enter__(self) -> "Git":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        shutil.rmtree(self._private, ignore_errors=True)

    def scrub(self, text: str) -> str:
        return text.replace(self.token, "********") if self.token else text

    def run(self, args: Sequence[str], cwd: Optional[str] = None, check: bool = True) -> subprocess.CompletedProcess:
        argv = [self.executable] + list(args)
        try:
            proc = subprocess.run(argv, cwd=cwd, env=self.env, capture_output=True, text=True, timeout=self.timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise GitError(f"git {' '.join(args[:2])} did not finish within {self.timeout} s", "timeout") from exc
        if check and proc.returncode != 0:
            raise GitError(self.describe_failure(args, proc), self.classify(proc.stderr))
        return proc

    def describe_failure(self, args: Sequence[str], proc: subprocess.CompletedProcess) -> str:
        lines = [line for line in (proc.stderr or proc.stdout or "").strip().splitlines() if line.strip()]
        detail = " | ".join(lines[-5:]) or f"exit code {proc.returncode}"
        return self.scrub(f"git {' '.join(args[:2])} failed: {detail}")

    @staticmethod
    def classify(stderr: str) -> str:
        if any(marker in stderr for marker in AUTH_ERRORS):
            return "auth"
        if "not found" in stderr or "does not appear to be a git repository" in stderr or "404" in stderr:
            return "not_found"
        if "[rejected]" in stderr or "non-fast-forward" in stderr or "fetch first" in stderr:
            return "rejected"
        return "error"

    # --- repository helpers -------------------------------------------------------------------------------------

    def rev(self, ref: str, cwd: str) -> Optional[str]:
        proc = self.run(["rev-parse", "--verify", "--quiet", ref + "^{commit}"], cwd=cwd, check=False)
        return proc.stdout.strip() or None if proc.returncode == 0 else None

    def ensure_clone(self, url: str, dest: str) -> None:
        """Make ``dest`` a repository whose ``origin`` is ``url`` (no fetch)."""
        if not os.path.isdir(os.path.join(dest, ".git")):
            os.makedirs(dest, exist_ok=True)
            if os.listdir(dest):
                raise GitError(f"{dest} exists, is not empty and is not a git checkout: remove it or choose another dest")
            self.run(["init", "-q", dest])
            self.run(["remote", "add", "origin", url], cwd=dest)
            return
        current = self.run(["remote", "get-url", "origin"], cwd=dest, check=False).stdout.strip()
        if current != url:
            self.run(["remote", "remove", "origin"], cwd=dest, check=False)
            self.run(["remote", "add", "origin", url], cwd=dest)

    def fetch(self, dest: str) -> None:
        self.run(["fetch", "-q", "--prune", "--prune-tags", "--force", "--tags", "origin",
                  "+refs/heads/*:refs/remotes/origin/*"], cwd=dest)

    def remote_refs(self, url: str) -> Dict[str, str]:
        """``ls-remote``: ref name -> sha (annotated tags resolved to their commit)."""
        refs: Dict[str, str] = {}
        for line in self.run(["ls-remote", url]).stdout.splitlines():
            sha, _tab, name = line.partition("\t")
            if name.endswith("^{}"):
                refs[name[:-3]] = sha
            else:
                refs.setdefault(name, sha)
        return refs

    def resolve(self, version: str, dest: str) -> str:
        for ref in (f"refs/remotes/origin/{version}", f"refs/tags/{version}"):
            sha = self.rev(ref, dest)
            if sha:
                return sha
        if SHA.match(version):
            sha = self.rev(version, dest)
            if sha:
                return sha
        raise GitError(f"version {version!r} is neither a branch, a tag nor a commit of the remote", "not_found")

    def dirty(self, dest: str) -> bool:
        return bool(self.run(["status", "--porcelain", "--ignored"], cwd=dest).stdout.strip())


def checkout(git: Git, url: str, dest: str, version: str, check_mode: bool = False) -> Dict[str, Any]:
    """Make ``dest`` a clean checkout of ``url`` at ``version`` (branch, tag or commit)."""
    has_clone = os.path.isdir(os.path.join(dest, ".git"))
    before = git.rev("HEAD", dest) if has_clone else None
    if check_mode:
        refs = git.remote_refs(url)
        target = refs.get(f"refs/heads/{version}") or refs.get(f"refs/tags/{version}")
        if target is None and SHA.match(version):
            target = git.rev(version, dest) if has_clone else None
            target = target or version
        if target is None:
            raise GitError(f"version {version!r} is neither a branch nor a tag of the remote", "not_found")
        dirty = has_clone and git.dirty(dest)
        return {"changed": before != target or dirty, "before": before, "commit": target, "version": version}
    git.ensure_clone(url, dest)
    git.fetch(dest)
    target = git.resolve(version, dest)
    dirty = git.dirty(dest) if before else False
    if before != target or dirty:
        git.run(["checkout", "-q", "--force", "--detach", target], cwd=dest)
        git.run(["clean", "-q", "-f", "-d", "-x"], cwd=dest)
    return {"changed": before != target or dirty, "before": before, "commit": target, "version": version}


def _prepare_branch(git: Git, dest: str, branch: str) -> Optional[str]:
    """Reset ``dest`` to the remote branch (or an empty orphan branch when the remote has none)."""
    git.fetch(dest)
    remote = git.rev(f"refs/remotes/origin/{branch}", dest)
    if remote:
        git.run(["checkout", "-q", "--force", "-B", branch, remote], cwd=dest)
    else:
        git.run(["checkout", "-q", "--force", "--orphan", branch], cwd=dest)
        git.run(["rm", "-r", "-q", "-f", "--cached", "--ignore-unmatch", "."], cwd=dest)
    git.run(["clean", "-q", "-f", "-d", "-x"], cwd=dest)
    return remote


def _plan(dest: str, files: Sequence[str], path: str) -> List[Dict[str, Any]]:
    plan = []
    for src in files:
        name = os.path.basename(src)
        rel = os.path.join(path, name) if path else name
        target = os.path.join(dest, rel)
        with open(src, "rb") as handle:
            new = handle.read()
        old = None
        if os.path.isfile(target):
            with open(target, "rb") as handle:
                old = handle.read()
        status = "unchanged" if old == new else ("added" if old is None else "changed")
        plan.append({"path": rel, "src": src, "status": status, "sha256": hashlib.sha256(new).hexdigest(),
                     "_old": old, "_new": new})
    return plan


def publish(git: Git, url: str, dest: str, branch: str, files: Sequence[str], path: str, message: str,
            author_name: str, author_email: str, push: bool = True, check_mode: bool = False,
            attempts: int = 3) -> Dict[str, Any]:
    """Put ``files`` under ``path`` in ``branch`` of ``url``: commit and push only when content changed.

    In check mode the work happens in a throw-away clone, so neither ``dest`` nor the remote change.
    A push refused because the branch moved meanwhile is retried on top of the new remote head.
    """
    for src in files:
        if not os.path.isfile(src):
            raise GitError(f"files: {src} does not exist")
    work = tempfile.mkdtemp(prefix="yellow-publish-") if check_mode else dest
    try:
        for attempt in range(1, attempts + 1):
            git.ensure_clone(url, work)
            before = _prepare_branch(git, work, branch)
            plan = _plan(work, files, path)
            changes = [item for item in plan if item["status"] != "unchanged"]
            result: Dict[str, Any] = {
                "changed": bool(changes), "before": before, "commit": before, "branch": branch, "pushed": False,
                "files": [{key: item[key] for key in ("path", "status", "sha256")} for item in plan],
                "diff": [{"before_header": item["path"], "after_header": item["path"],
                          "before": (item["_old"] or b"").decode("utf-8", "replace"),
                          "after": item["_new"].decode("utf-8", "replace")} for item in changes],
            }
            if not changes or check_mode:
                return result
            for item in changes:
                target = os.path.join(work, item["path"])
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as handle:
                    handle.write(item["_new"])
            git.run(["add", "--"] + [item["path"] for item in changes], cwd=work)
            git.run(["-c", f"user.name={author_name}", "-c", f"user.email={author_email}",
                     "commit", "-q", "--no-verify", "-m", message], cwd=work)
            result["commit"] = git.rev("HEAD", work)
            if not push:
                return result
            try:
                git.run(["push", "-q", "origin", f"HEAD:refs/heads/{branch}"], cwd=work)
            except GitError as exc:
                if exc.kind == "rejected" and attempt < attempts:
                    continue
                raise
            result["pushed"] = True
            return result
        raise GitError("push kept being rejected", "rejected")  # pragma: no cover (the loop returns or raises)
    finally:
        if check_mode:
            shutil.rmtree(work, ignore_errors=True)
