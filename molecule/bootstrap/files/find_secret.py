"""Print every file under the given directories (and ~/.git-credentials) that contains the secret read on stdin."""

import os
import sys

secret = sys.stdin.read().encode()
paths = [os.path.expanduser("~/.git-credentials")]
for top in sys.argv[1:]:
    for root, _dirs, files in os.walk(top):
        paths.extend(os.path.join(root, name) for name in files)
for path in paths:
    try:
        with open(path, "rb") as handle:
            if secret in handle.read():
                print(path)
    except OSError:
        pass
