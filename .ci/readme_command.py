"""Print one of the README's two quick-start commands (``open`` or ``test``)."""

import re
import sys
from pathlib import Path

blocks = re.findall(r"```sh\n(.*?)\n```", Path(__file__).resolve().parents[1].joinpath("README.md").read_text(), re.S)
commands = [b.strip() for b in blocks if "python3 -m venv" in b]
which = sys.argv[1] if len(sys.argv) > 1 else "test"
print(commands[1] if which == "test" else commands[0])
