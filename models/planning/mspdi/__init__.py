"""Microsoft Project XML (MSPDI) in and out of the shared `Plan`, as a package.

Everything public is imported from here, so callers keep writing
`from models.planning.mspdi import read_mspdi` while the reader, the writer
and the calendar model get modules of their own.
"""

from models.planning.mspdi.reader import (
    MspdiCalendar,
    MspdiError,
    MspdiProject,
    RawLag,
    SavedTaskDates,
    WorkWeek,
    finish_date_of,
    read_mspdi,
    saved_schedule,
    start_date_of,
    write_mspdi,
    write_project,
)

__all__ = [
    "MspdiCalendar",
    "MspdiError",
    "MspdiProject",
    "RawLag",
    "SavedTaskDates",
    "WorkWeek",
    "finish_date_of",
    "read_mspdi",
    "saved_schedule",
    "start_date_of",
    "write_mspdi",
    "write_project",
]
