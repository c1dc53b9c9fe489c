"""The fastest safe YAML loader available: libyaml's when PyYAML was built with it."""

import yaml

SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
