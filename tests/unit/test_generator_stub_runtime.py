# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The stand-in's runtime commands, the work of the generated bootstrap Jobs (tests/generator_stub/README.md):
``handleRing1Init``, ``handleModelMerge`` and ``reconcileViews`` clone the model over HTTP from a real git
server (tests/lab/git_http_server.py: git http-backend behind Basic auth) with the token of the Job's
environment, and act on a REAL PostgreSQL 15 (Debian's server binaries, initdb/pg_ctl on loopback).
One test runs the same command in the stand-in image (podman), as a pod does; the last one runs the MCP
Deployment's command (the stand-in MCP server)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import psycopg2
import pytest
import yaml

from tests.pg_server import free_port, throwaway_postgres

ROOT = Path(__file__).resolve().parents[2]
STUB = ROOT / "tests" / "generator_stub"
GIT_USER = "yellow-bot"
TOKEN = "tok-4f1Zq9XbY2pLw8R3vT6nK0sJ"
DB_PASSWORD = "pg 'pw'; DROP ROLE x; -- 7Qm2"
DB_USER = "datasurfacedt"
TABLES = ["scd1_airflow_dsg", "scd2_airflow_dsg", "test_dp_factory_dags"]
GIT_ENV = {"GIT_AUTHOR_NAME": "Modeller", "GIT_AUTHOR_EMAIL": "m@lab.invalid", "GIT_COMMITTER_NAME": "Modeller",
           "GIT_COMMITTER_EMAIL": "m@lab.invalid"}


@pytest.fixture(scope="module")
def postgres():
    """A throw-away PostgreSQL server (tests/pg_server.py) with the platform user."""
    with throwaway_postgres("yellow-stub-pg-") as server:
        with server["admin"].cursor() as cur:
            cur.execute(f"CREATE ROLE {DB_USER} LOGIN PASSWORD %s", (DB_PASSWORD,))
        yield server


def _git_server(root: Path, *extra: str):
    credentials = root.parent / f"credentials{len(extra)}"
    credentials.write_text(f"{GIT_USER}:{TOKEN}\n")
    credentials.chmod(0o600)
    log = root.parent / f"requests{len(extra)}.log"
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests/lab/git_http_server.py"), "--root", str(root),
                             "--credentials-file", str(credentials), "--log", str(log), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:"), proc.stderr.read()
    return proc, url, log


@pytest.fixture(scope="module")
def git_servers(tmp_path_factory):
    """The lab's way (--any-user: the token alone, like GitHub) and the strict way (user and token)."""
    root = tmp_path_factory.mktemp("git") / "repos"
    root.mkdir()
    lab, lab_url, lab_log = _git_server(root, "--any-user")
    strict, strict_url, strict_log = _git_server(root)
    yield {"root": root, "url": lab_url, "log": lab_log, "strict_url": strict_url, "strict_log": strict_log}
    for proc in (lab, strict):
        proc.terminate()
        proc.wait(timeout=30)


class Site:
    """One test's model repository (the stand-in model, merge store -> this test's database) and cache."""

    def __init__(self, tmp_path: Path, servers: dict, postgres: dict, name: str, db_port: int | None = None):
        self.tmp = tmp_path
        self.db = f"merge_{name}"
        with postgres["admin"].cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{self.db}"')
            cur.execute(f'CREATE DATABASE "{self.db}" OWNER {DB_USER}')
        self.postgres = postgres
        self.bare = servers["root"] / f"{name}.git"
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(self.bare)], check=True)
        self.work = tmp_path / "model-src"
        shutil.copytree(STUB / "model", self.work, ignore=shutil.ignore_patterns("__pycache__"))
        text = (self.work / "eco.py").read_text()
        for old, new in (('"host": "postgres.example.invalid", "port": 5432', f'"host": "127.0.0.1", "port": {db_port or postgres["port"]}'),
                         ('"databaseName": "merge_db_af3"', f'"databaseName": "{self.db}"')):
            assert text.count(old) == 1
            text = text.replace(old, new)
        (self.work / "eco.py").write_text(text)
        self.git("init", "-q", "-b", "main")
        self.commit("Model v1")
        self.url = f"{servers['url']}/{name}.git"
        self.cache = tmp_path / "cache" / "git-models"
        self.cache.mkdir(parents=True)
        self.home = tmp_path / "home"
        self.home.mkdir()

    def git(self, *args: str) -> str:
        return subprocess.run(["git", *args], cwd=self.work, env={**os.environ, **GIT_ENV}, check=True, capture_output=True,
                              text=True).stdout.strip()

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        self.git("push", "-q", str(self.bare), "main")
        return self.git("rev-parse", "HEAD")

    def env(self, **over) -> dict:
        env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(STUB / "src"), "PYTHONDONTWRITEBYTECODE": "1", "HOME": str(self.home),
               "postgres_USER": DB_USER, "postgres_PASSWORD": DB_PASSWORD, "git_TOKEN": TOKEN}
        env.update(over)
        return {k: v for k, v in env.items() if v is not None}

    def run(self, command: str, url: str | None = None, psp: str = "Test_DP", **env) -> subprocess.CompletedProcess:
        # The Job's working directory is the cache volume (the generated Job's workingDir).
        return subprocess.run([sys.executable, "-m", "datasurface.cmd.platform", command, "--model", str(self.cache / "model"),
                               "--git-repo", url or self.url, "--psp", psp, "--rte-name", "prod"],
                              cwd=self.cache, env=self.env(**env), capture_output=True, text=True, timeout=300, check=False)

    def query(self, sql: str, *params) -> list:
        conn = psycopg2.connect(host=self.postgres["socket"], port=self.postgres["port"], user="postgres", dbname=self.db)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall()
        finally:
            conn.close()

    def tables(self) -> list:
        return [r[0] for r in self.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
                                         "AND table_type = 'BASE TABLE' ORDER BY 1")]


def no_secret(result: subprocess.CompletedProcess) -> None:
    for secret in (TOKEN, DB_PASSWORD, "DROP ROLE"):
        assert secret not in result.stdout and secret not in result.stderr


def last_line(result: subprocess.CompletedProcess) -> str:
    return result.stderr.strip().splitlines()[-1]


@pytest.fixture
def site(request, tmp_path, git_servers, postgres):
    return Site(tmp_path, git_servers, postgres, request.node.name.replace("test_", "")[:40])


def test_ring1_init_creates_the_tables_and_is_idempotent(site):
    first = site.run("handleRing1Init")
    assert first.returncode == 0, first.stderr
    assert site.tables() == TABLES
    columns = site.query("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'test_dp_factory_dags' "
                         "ORDER BY ordinal_position")
    assert columns == [("dag_id", "text"), ("config", "jsonb"), ("created_at", "timestamp with time zone")]
    assert site.query("SELECT tableowner FROM pg_tables WHERE tablename = 'scd1_airflow_dsg'") == [(DB_USER,)]
    lines = first.stdout.splitlines()
    assert lines[0] == "handleRing1Init: PSP Test_DP, runtime environment prod"
    assert f"handleRing1Init: cloning the model from {site.url} into {site.cache / 'model'}" in lines
    assert f"handleRing1Init: connecting to the merge store Test_DP_Merge at 127.0.0.1:{site.postgres['port']}/{site.db} as {DB_USER}" in lines
    assert lines[-2:] == ["handleRing1Init: ring1 tables present: " + " ".join(TABLES), "handleRing1Init: done"]
    assert first.stderr == ""
    no_secret(first)
    site.query("INSERT INTO test_dp_factory_dags (dag_id) VALUES ('kept') RETURNING dag_id")
    again = site.run("handleRing1Init")
    assert again.returncode == 0, again.stderr
    assert f"handleRing1Init: updating the model from {site.url} into {site.cache / 'model'}" in again.stdout
    assert site.tables() == TABLES and site.query("SELECT dag_id FROM test_dp_factory_dags") == [("kept",)]


def test_model_merge_records_each_commit_and_the_view_follows(site):
    v1 = site.git("rev-parse", "HEAD")
    assert site.run("handleModelMerge").returncode == 0
    again = site.run("handleModelMerge")
    assert again.returncode == 0, again.stderr
    assert f"handleModelMerge: recorded commit {v1} of ecosystem Demo in test_dp_model_merge (merge 2)" in again.stdout
    rows = site.query("SELECT commit_sha, rte_name, ecosystem, git_repo, merge_count FROM test_dp_model_merge")
    assert rows == [(v1, "prod", "Demo", site.url, 2)]
    # A new commit of the model: the cache follows it, the record gets a row, the view points at it.
    (site.work / "NOTES.md").write_text("v2\n")
    v2 = site.commit("Model v2")
    merged = site.run("handleModelMerge")
    assert merged.returncode == 0, merged.stderr
    assert (site.cache / "model" / "NOTES.md").read_text() == "v2\n"
    assert f"handleModelMerge: model at commit {v2}" in merged.stdout
    assert site.query("SELECT commit_sha, merge_count FROM test_dp_model_merge ORDER BY merged_at") == [(v1, 2), (v2, 1)]
    views = site.run("reconcileViews")
    assert views.returncode == 0, views.stderr
    assert f"reconcileViews: view test_dp_model_current reconciled: runtime environment prod -> {v2}" in views.stdout
    assert site.query("SELECT table_type FROM information_schema.tables WHERE table_name = 'test_dp_model_current'") == [("VIEW",)]
    assert site.query("SELECT rte_name, commit_sha, ecosystem FROM test_dp_model_current") == [("prod", v2, "Demo")]
    no_secret(views)


def test_reconcile_views_before_any_merge_is_harmless(site):
    result = site.run("reconcileViews")
    assert result.returncode == 0, result.stderr
    assert "reconcileViews: view test_dp_model_current reconciled: runtime environment prod -> no merged model yet" in result.stdout
    assert site.query("SELECT count(*) FROM test_dp_model_current") == [(0,)]
    assert site.tables() == ["test_dp_model_merge"]


def test_a_refused_database_password(site):
    result = site.run("handleRing1Init", postgres_PASSWORD="not-the-password")
    assert result.returncode == 1
    assert last_line(result) == (f"ERROR: handleRing1Init: database 127.0.0.1:{site.postgres['port']}/{site.db} refused the credentials "
                                 f'of user {DB_USER}: connection to server at "127.0.0.1", port {site.postgres["port"]} failed: '
                                 f'FATAL:  password authentication failed for user "{DB_USER}"')
    assert len(result.stderr.strip().splitlines()) == 1 and "not-the-password" not in result.stdout + result.stderr
    no_secret(result)
    assert site.tables() == []


def test_an_unreachable_database(tmp_path, git_servers, postgres):
    closed = free_port()
    site = Site(tmp_path, git_servers, postgres, "unreachable_db", db_port=closed)
    result = site.run("handleModelMerge")
    assert result.returncode == 1
    assert last_line(result).startswith(f"ERROR: handleModelMerge: database: cannot reach 127.0.0.1:{closed}/{site.db}: "
                                        f'connection to server at "127.0.0.1", port {closed} failed: Connection refused')
    no_secret(result)


def test_a_refused_git_token_touches_no_database(site, git_servers):
    result = site.run("handleRing1Init", git_TOKEN="wrong-token")
    assert result.returncode == 1
    assert result.stderr.strip() == f"ERROR: handleRing1Init: git: {site.url} refused the credentials (the token of the Job's git Secret)"
    assert "wrong-token" not in result.stdout + result.stderr
    assert site.tables() == []


def test_an_unreachable_git_server(site):
    url = f"http://127.0.0.1:{free_port()}/model.git"
    result = site.run("handleRing1Init", url=url)
    assert result.returncode == 1
    assert last_line(result).startswith(f"ERROR: handleRing1Init: git: cannot reach {url}: Failed to connect to 127.0.0.1 port")
    no_secret(result)


def test_a_missing_repository_and_missing_credentials(site, git_servers):
    result = site.run("handleRing1Init", url=f"{git_servers['url']}/no-such.git")
    assert result.returncode == 1 and last_line(result) == f"ERROR: handleRing1Init: git: {git_servers['url']}/no-such.git: repository not found"
    result = site.run("handleRing1Init", git_TOKEN=None)
    assert result.returncode == 1 and last_line(result) == (
        "ERROR: handleRing1Init: no git token in the environment: the Job sets <git secret>_TOKEN (Secret git, key token)")
    result = site.run("handleRing1Init", postgres_PASSWORD=None)
    assert result.returncode == 1 and last_line(result) == (
        "ERROR: handleRing1Init: no database credentials in the environment: the Job sets postgres_USER and postgres_PASSWORD (Secret postgres)")
    result = site.run("handleRing1Init", psp="No_Such_PSP")
    assert result.returncode == 1 and last_line(result) == "ERROR: handleRing1Init: the model (ecosystem Demo) has no PSP No_Such_PSP"
    assert site.tables() == []


def test_the_token_reaches_git_only_through_the_credential_helper(site, git_servers, tmp_path):
    """No git argument, no file in the cache (.git/config included) and no URL holds the token; the
    server saw it (user x-access-token: the Jobs have a token and no user)."""
    spy = tmp_path / "spy"
    spy.mkdir()
    real_git = shutil.which("git")
    (spy / "git").write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >>"{tmp_path}/git-argv"\nexec {real_git} "$@"\n')
    (spy / "git").chmod(0o755)
    result = site.run("handleModelMerge", PATH=f"{spy}:{os.environ['PATH']}")
    assert result.returncode == 0, result.stderr
    argv = (tmp_path / "git-argv").read_text()
    assert "fetch -q --no-tags origin HEAD" in argv and TOKEN not in argv
    for path in site.cache.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path
    assert site.git("-C", str(site.cache / "model"), "config", "remote.origin.url") == site.url
    assert not (site.home / ".git-credentials").exists()
    log = git_servers["log"].read_text()
    assert '"user": "x-access-token", "status": 200' in log and TOKEN not in log


def test_a_user_in_the_url_reaches_a_strict_server(site, git_servers):
    """A host that wants the user too (the lab server without --any-user): without one the token is refused,
    with the user in the URL (no token there) it works, and the record keeps the URL without the user."""
    name = site.bare.name
    bare_url = f"{git_servers['strict_url']}/{name}"
    refused = site.run("handleModelMerge", url=bare_url)
    assert refused.returncode == 1 and last_line(refused) == (
        f"ERROR: handleModelMerge: git: {bare_url} refused the credentials (the token of the Job's git Secret)")
    with_user = bare_url.replace("http://", f"http://{GIT_USER}@")
    merged = site.run("handleModelMerge", url=with_user)
    assert merged.returncode == 0, merged.stderr
    # (the refused run left an empty clone: this one updates it)
    assert f"handleModelMerge: updating the model from {bare_url} into" in merged.stdout
    assert site.query("SELECT git_repo FROM test_dp_model_merge") == [(bare_url,)]
    assert f'"user": "{GIT_USER}", "status": 200' in git_servers["strict_log"].read_text()


def test_the_generated_jobs_arguments_run_as_they_are(site, tmp_path):
    """Each generated Job's command and args (only --model and --git-repo pointed at this test's)."""
    out = tmp_path / "out"
    gen = subprocess.run([sys.executable, "-m", "datasurface.cmd.platform", "generatePlatformBootstrap", "--ringLevel", "0",
                          "--model", str(site.work), "--output", str(out), "--psp", "Test_DP", "--rte-name", "prod"],
                         cwd=tmp_path, env=site.env(), capture_output=True, text=True, timeout=60, check=True)
    assert gen.returncode == 0
    for job_file in ("test_dp_ring1_init_job.yaml", "test_dp_model_merge_job.yaml", "test_dp_reconcile_views_job.yaml"):
        [container] = yaml.safe_load((out / "Test_DP" / job_file).read_text())["spec"]["template"]["spec"]["containers"]
        assert container["command"] == ["python", "-m", "datasurface.cmd.platform"]
        assert container["workingDir"] == "/cache/git-models"
        args = list(container["args"])
        assert args[1:3] == ["--model", "/cache/git-models/model"] and args[3] == "--git-repo"
        args[2], args[4] = str(site.cache / "model"), site.url
        result = subprocess.run([sys.executable, *container["command"][1:], *args], cwd=site.cache, env=site.env(),
                                capture_output=True, text=True, timeout=300, check=False)
        assert result.returncode == 0, (job_file, result.stderr)
        assert result.stdout.splitlines()[-1] == f"{args[0]}: done"
    assert site.tables() == TABLES[:2] + ["test_dp_factory_dags", "test_dp_model_merge"]


def test_the_image_runs_the_job_command(site):
    """The stand-in image (built by tests/lab/build_generator_image.sh) has python, git and psycopg2: the Job's
    command as a pod runs it (the image's own working directory holds the poisoned eco.py: the Job's
    workingDir avoids it). Secrets reach podman through its environment (--env NAME), not its arguments."""
    build = subprocess.run([str(ROOT / "tests/lab/build_generator_image.sh")], capture_output=True, text=True, check=False, timeout=1800)
    assert build.returncode == 0, build.stderr
    image = subprocess.run([str(ROOT / "tests/lab/build_generator_image.sh"), "--print-name"], capture_output=True, text=True,
                           check=True).stdout.strip()
    env = {**os.environ, "postgres_USER": DB_USER, "postgres_PASSWORD": DB_PASSWORD, "git_TOKEN": TOKEN}
    result = subprocess.run(["podman", "run", "--rm", "--network=host", "-v", f"{site.cache}:/cache/git-models", "-w", "/cache/git-models",
                             "--env", "postgres_USER", "--env", "postgres_PASSWORD", "--env", "git_TOKEN", image,
                             "python", "-m", "datasurface.cmd.platform", "handleRing1Init", "--model", "/cache/git-models/model",
                             "--git-repo", site.url, "--psp", "Test_DP", "--rte-name", "prod"],
                            env=env, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-2:] == ["handleRing1Init: ring1 tables present: " + " ".join(TABLES), "handleRing1Init: done"]
    assert site.tables() == TABLES
    no_secret(result)


def test_the_mcp_deployment_command_serves(tmp_path):
    """The generated MCP Deployment's command and args (plus --port 0) start an HTTP server that answers
    /health and enough MCP JSON-RPC to connect; SIGTERM stops it with exit 0."""
    out = tmp_path / "out"
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(STUB / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
    subprocess.run([sys.executable, "-m", "datasurface.cmd.platform", "generatePlatformBootstrap", "--ringLevel", "0", "--model",
                    str(STUB / "model"), "--output", str(out), "--psp", "Test_DP", "--rte-name", "prod"],
                   cwd=tmp_path, env=env, check=True, capture_output=True, timeout=60)
    [mcp] = [d for d in yaml.safe_load_all((out / "Test_DP" / "kubernetes-bootstrap.yaml").read_text())
             if d and d["kind"] == "Deployment" and d["metadata"]["name"] == "test-dp-mcp"]
    [container] = mcp["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["python", "-m", "datasurface.cmd.mcp"] and container["ports"][0]["containerPort"] == 8000
    proc = subprocess.Popen([sys.executable, *container["command"][1:], *container["args"], "--host", "127.0.0.1", "--port", "0"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline().strip()
        assert first.startswith("mcp: serving PSP Test_DP on 127.0.0.1:"), proc.stderr.read()
        base = "http://" + first.split(" on ")[1].split(" ")[0]
        with urllib.request.urlopen(base + "/health", timeout=30) as response:
            assert json.load(response) == {"status": "ok", "psp": "Test_DP", "rte_name": "prod"}

        def rpc(payload):
            request = urllib.request.Request(base + "/mcp", data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read()

        status, body = rpc({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}})
        assert status == 200 and json.loads(body)["result"]["serverInfo"]["name"] == "datasurface-stand-in-Test_DP"
        assert rpc({"jsonrpc": "2.0", "method": "notifications/initialized"}) == (202, b"")
        status, body = rpc({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
        assert json.loads(body) == {"jsonrpc": "2.0", "id": 2, "result": {"tools": []}}
        status, body = rpc({"jsonrpc": "2.0", "id": 3, "method": "tools/call"})
        assert json.loads(body)["error"] == {"code": -32601, "message": "method not found: tools/call"}
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0
    assert "mcp: POST /mcp 200" in proc.stdout.read()
