# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The trap: an eco.py in the generator's working directory.

`python -m` puts the working directory first on sys.path and the DataSurface loader appends the
model directory to the end, so this module wins over the model's eco.py when the generator runs
from a directory holding it. The stand-in image's WORKDIR holds this file; a tool that runs the
generator without an empty working directory of its own produces output for this poisoned model.
"""


# createEcosystem is the name the DataSurface loader calls.
def createEcosystem():  # pylint: disable=invalid-name
    return {
        "name": "Poisoned",
        "psps": {
            "Test_DP": {
                "namespace": "poisoned-by-cwd-eco",
                "image": "poisoned.invalid/eco-from-the-working-directory:trap",
                "git_repo": "https://poisoned.invalid/cwd-eco.git",
                "dag_schedule": "@poisoned",
                "mcp": False,
            },
        },
    }
