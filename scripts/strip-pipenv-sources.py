"""Removes package-index addresses from Pipfile and Pipfile.lock after `pipenv lock`.

With no [[source]] pipenv uses its default index (or the one the machine's
configuration names), so the files work unchanged on any machine.
"""

import json
import re
import sys
from pathlib import Path

pipfile, lockfile = (Path(arg) for arg in sys.argv[1:3])
pipfile.write_text(re.sub(r"\[\[source\]\]\n(?:[^\[\n][^\n]*\n)*\n?", "", pipfile.read_text()))
lock = json.loads(lockfile.read_text())
lock["_meta"]["sources"] = []
lockfile.write_text(json.dumps(lock, indent=4, sort_keys=True) + "\n")
