"""ofsep-presets: one canonical MRI protocol spec, rendered for every vendor, checked against what scanners export."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ofsep-presets")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0+checkout"
