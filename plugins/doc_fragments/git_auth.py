# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Options shared by the modules that talk to a git remote."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  repo:
    description:
      - The remote, for example C(https://github.com/example-org/model.git), C(git@github.com:example-org/model.git)
        or an absolute path to a local repository.
      - Must not carry credentials; give them as O(username) and O(token).
    type: str
    required: true
  username:
    description:
      - User name for an HTTP(S) remote. GitHub accepts any non-empty name with a personal access token.
      - Default C(git) when O(token) is set.
    type: str
  token:
    description:
      - Password or personal access token for an HTTP(S) remote (from a vault variable).
      - It reaches git only through C(GIT_ASKPASS) and this module's process environment; it is never in
        a command line, the stored remote URL, a credential store, the output or an error message.
    type: str
  timeout:
    description: Limit in seconds for each git command.
    type: int
    default: 300
notes:
  - Runs git on the host the task runs on (usually the control node); git 2.31 or later.
  - Credential helpers configured for the user are switched off for these git commands, so a token is never
    stored by one, and terminal prompts are off (a missing or wrong token fails at once).
"""
