"""Scan every process's arguments until told to stop; record any that contain the secret.

usage: python3 scan_cmdlines.py SECRET_FILE STOP_FILE REPORT_FILE
The secret is read from a file (never passed as an argument). The report (JSON) lists the
processes whose arguments contained it and how many pull commands (ctr ... pull) were seen.
"""

import json
import os
import sys
import time

secret_file, stop_file, report_file = sys.argv[1:4]
with open(secret_file, "rb") as handle:
    secret = handle.read().rstrip(b"\n")
leaks, pulls, scans = [], set(), 0
deadline = time.time() + 600
while not os.path.exists(stop_file) and time.time() < deadline:
    scans += 1
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as handle:
                cmdline = handle.read()
        except OSError:
            continue
        if secret in cmdline:
            leaks.append(cmdline.replace(secret, b"<SECRET>").decode("utf-8", "replace"))
        parts = cmdline.split(b"\0")
        if b"ctr" in parts[0] and b"pull" in parts:
            pulls.add(pid)
    time.sleep(0.005)
with open(report_file, "w") as handle:
    json.dump({"leaks": leaks, "pull_processes_seen": len(pulls), "scans": scans}, handle)
