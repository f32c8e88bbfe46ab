"""What a benchmark's results record says about the machine it ran on (the load matters: it is shared)."""

from __future__ import annotations

import os
import platform
import sys
from typing import Any


def machine() -> dict[str, Any]:
    """Python version, platform, CPU count and the 1/5/15-minute load averages at the time of the call."""
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
