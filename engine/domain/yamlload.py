"""The YAML loader duban uses: safe, libyaml-fast where available, and with dates left as text.

PyYAML turns anything that looks like a date into a ``date`` and raises a bare
ValueError on one that is not real (2026-11-31); keeping dates as strings lets
each reader validate them and name the key.
"""

from __future__ import annotations

import yaml

_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class SafeLoader(_Base):  # type: ignore[valid-type,misc]
    pass


SafeLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _Base.yaml_implicit_resolvers.items()
}
