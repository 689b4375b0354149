"""What a web worker and the job worker load when they start: the report renderers
(WeasyPrint, folium; 0.6 s and tens of MB) only when a report job runs, not at every start."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("weasyprint", "folium")


def test_the_web_app_and_the_worker_do_not_load_the_report_renderers() -> None:
    probe = ("import sys\n"
             "import gridmap.app, gridmap.worker, gridmap.reports.web.api, "
             "gridmap.reports.services.jobs\n"
             f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == ""
