"""The version of femflux (one place: the package, the CLI and every
summary.json import it from here)."""

__version__ = "0.1.0"
