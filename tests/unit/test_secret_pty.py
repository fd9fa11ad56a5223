# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The password reaches a prompting program through its terminal only."""

from __future__ import annotations

import sys
import textwrap

import pytest

from ansible_collections.datasurface.yellow.plugins.module_utils.secret_pty import CommandTimeout, run_plain, run_with_password

SECRET = "pty s3cret '; $(id)"

PROMPTER = textwrap.dedent(
    """
    import getpass, os, sys
    password = getpass.getpass("Password: ")
    # Every process's arguments and environment, as `ps` would see them.
    leaked = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        for part in ("cmdline", "environ"):
            try:
                with open("/proc/%s/%s" % (pid, part), "rb") as handle:
                    if password.encode() in handle.read():
                        leaked.append(pid + "/" + part)
            except OSError:
                pass
    print("got %d chars, echo-free, leaked=%s" % (len(password), leaked))
    print("now echoing it by mistake: " + password)
    sys.exit(0 if password == sys.argv[1] else 3)
    """
)


def test_password_is_typed_at_the_prompt_and_never_visible(tmp_path):
    script = tmp_path / "prompter.py"
    script.write_text(PROMPTER)
    expected_length = str(len(SECRET))
    rc, output = run_with_password([sys.executable, str(script), SECRET], SECRET, timeout=30)
    assert rc == 0, output
    assert "got %s chars" % expected_length in output
    assert SECRET not in output and "********" in output


def test_password_is_absent_from_every_process_while_it_runs(tmp_path):
    script = tmp_path / "prompter.py"
    script.write_text(PROMPTER.replace("sys.exit(0 if password == sys.argv[1] else 3)", "sys.exit(0)"))
    rc, output = run_with_password([sys.executable, str(script)], SECRET, timeout=30)
    assert rc == 0
    assert "leaked=[]" in output, output


def test_a_hanging_command_is_killed_at_the_timeout():
    with pytest.raises(CommandTimeout):
        run_with_password([sys.executable, "-c", "import time; print('Password:'); time.sleep(60)"], SECRET, timeout=1)
    with pytest.raises(CommandTimeout):
        run_plain([sys.executable, "-c", "import time; time.sleep(60)"], timeout=1)


def test_exit_codes_are_returned():
    assert run_with_password([sys.executable, "-c", "raise SystemExit(4)"], SECRET, timeout=10)[0] == 4
    assert run_plain([sys.executable, "-c", "print('hi')"], timeout=10) == (0, "hi\n")
