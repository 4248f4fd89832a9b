"""netlab's version: one place, read by the package, the CLI, pcapng files it writes and the wheel."""

__version__ = "0.1.0"
