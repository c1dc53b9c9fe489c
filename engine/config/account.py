"""Who is operating: the process's real operating-system account, or on PostgreSQL the database role.

Typing a name is not identity: ``--as`` says for whom an action is taken, and
``USER`` or ``LOGNAME`` can be set by anyone. The operator is read from the
real uid (``os.getuid``, which a process cannot choose) or from the
database's ``current_user``, and mapped through the organisation file's
``accounts: [os:NAME, pg:ROLE]`` to a person. Acting for someone else (代录)
takes the ``recorder`` role. A single-desk workspace (one shared computer, the
demo) relaxes the mapping and says so on every command.
"""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Account:
    kind: str  # os or pg
    name: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


def os_account() -> Account:
    """From the real uid: not from USER or LOGNAME, which anyone can set."""
    uid = os.getuid()
    try:
        return Account("os", pwd.getpwuid(uid).pw_name)
    except KeyError:
        return Account("os", f"uid{uid}")
