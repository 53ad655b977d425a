"""The reference: Sickle iterating every record of a ListRecords (no storing)."""

from __future__ import annotations

import sys

from sickle import Sickle

count = sum(1 for _ in Sickle(sys.argv[1]).ListRecords(metadataPrefix="lom"))
print(count)
