"""Case-state labels in the request's language: the one table the case pages and Open311 share.

The message ids are the Chinese labels (see :mod:`gridmap.web.i18n`); a test holds the table
complete against :class:`gridmap.cases.workflow.State`.
"""

from __future__ import annotations

from flask_babel import gettext

from gridmap.cases.workflow import State


def state_labels() -> dict[str, str]:
    """Every state's label, translated for the current request (or ``force_locale``)."""
    return {
        State.REPORTED.value: gettext("已上报"), State.DISPATCHED.value: gettext("已分派"),
        State.IN_PROGRESS.value: gettext("处置中"), State.RESOLVED.value: gettext("已处置"),
        State.VERIFIED.value: gettext("已核查"), State.RATED.value: gettext("已评价"),
        State.CLOSED.value: gettext("已结案"), State.RETURNED.value: gettext("已退回"),
        State.SUSPENDED.value: gettext("已挂起"), State.CANCELLED.value: gettext("已作废"),
    }
