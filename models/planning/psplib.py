"""PSPLIB single-mode RCPSP instances (`.sm`) and their known optimal makespans.

The PSPLIB j30 set (480 instances with proven optima) is the yardstick for the
resource leveller: the same CP-SAT model that levels real plans must reach the
published optimum on it, so the loader keeps the file's own job numbering and
integer periods and refuses anything it does not understand, naming the file
and line, rather than guessing.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path


class PsplibFormatError(ValueError):
    """A PSPLIB file that does not follow the `.sm` (or optimum list) layout."""

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")
        self.path = str(path)
        self.line = line


@dataclass(frozen=True)
class PsplibInstance:
    """One single-mode RCPSP: jobs 1..n as numbered in the file, durations in periods.

    Job 1 and job n are the zero-duration supersource and supersink of the
    format; they are kept so that starts and successors read exactly as in the
    file and in published solutions.
    """

    name: str
    jobs: tuple[int, ...]
    durations: dict[int, int]
    successors: dict[int, tuple[int, ...]]
    requests: dict[int, tuple[int, ...]]
    """Per job, the units of each renewable resource used in every period it runs."""
    capacities: tuple[int, ...]
    """Units of each renewable resource available in every period."""
    horizon: int | None = None
    mpm_time: int | None = None
    """Critical-path length stated by the generator (`MPM-Time`), when present."""
    due_date: int | None = None

    @property
    def n_resources(self) -> int:
        return len(self.capacities)

    def predecessors(self) -> dict[int, tuple[int, ...]]:
        """The successor lists inverted, as the schedulers walk the graph both ways."""
        preds: dict[int, list[int]] = {job: [] for job in self.jobs}
        for job in self.jobs:
            for succ in self.successors[job]:
                preds[succ].append(job)
        return {job: tuple(sorted(p)) for job, p in preds.items()}


_STAR_LINE = re.compile(r"^\*{5,}\s*$")
_DASH_LINE = re.compile(r"^-{5,}\s*$")


def _ints(path: Path, lineno: int, text: str, what: str) -> list[int]:
    try:
        return [int(token) for token in text.split()]
    except ValueError:
        raise PsplibFormatError(path, lineno, f"expected integers in {what}, got {text.strip()!r}") from None


def _field_value(path: Path, lineno: int, line: str, what: str) -> int:
    _, _, value = line.partition(":")
    numbers = _ints(path, lineno, value.replace("R", " ").replace("N", " ").replace("D", " "), what)
    if not numbers:
        raise PsplibFormatError(path, lineno, f"missing value for {what}")
    return numbers[0]


def parse_sm(path: str | Path) -> PsplibInstance:
    """Read a single-mode PSPLIB `.sm` file.

    Sections are recognised by their headings rather than fixed line numbers,
    because the files differ in preamble lines across the j30/j60/j120 sets.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="latin-1").splitlines()
    except OSError as exc:
        raise PsplibFormatError(path, None, f"cannot read: {exc.strerror or exc}") from None

    n_jobs: int | None = None
    n_renewable: int | None = None
    horizon: int | None = None
    mpm_time: int | None = None
    due_date: int | None = None
    successors: dict[int, tuple[int, ...]] = {}
    durations: dict[int, int] = {}
    requests: dict[int, tuple[int, ...]] = {}
    capacities: tuple[int, ...] | None = None

    section = ""
    project_header: list[str] | None = None
    i = 0
    while i < len(lines):
        lineno = i + 1
        raw = lines[i]
        line = raw.strip()
        i += 1
        if not line or _STAR_LINE.match(line) or _DASH_LINE.match(line):
            continue
        lower = line.lower()
        if lower.startswith("jobs (incl."):
            n_jobs = _field_value(path, lineno, line, "job count")
            continue
        if lower.startswith("horizon"):
            horizon = _field_value(path, lineno, line, "horizon")
            continue
        if lower.startswith("- renewable"):
            n_renewable = _field_value(path, lineno, line, "renewable resource count")
            continue
        if lower.startswith("- nonrenewable") or lower.startswith("- doubly constrained"):
            if _field_value(path, lineno, line, "resource count") != 0:
                raise PsplibFormatError(path, lineno, "only renewable resources are supported")
            continue
        if lower.startswith("project information"):
            section = "project"
            project_header = None
            continue
        if lower.startswith("precedence relations"):
            section = "precedence"
            continue
        if lower.startswith("requests/durations"):
            section = "requests"
            continue
        if lower.startswith("resourceavailabilities"):
            section = "capacities"
            continue

        if section == "project":
            if project_header is None:
                project_header = line.lower().split()
                continue
            values = _ints(path, lineno, line, "project information")
            if len(values) != len(project_header):
                raise PsplibFormatError(
                    path, lineno, f"project information has {len(values)} values for {len(project_header)} headings"
                )
            info = dict(zip(project_header, values))
            mpm_time = info.get("mpm-time")
            due_date = info.get("duedate")
            section = ""
        elif section == "precedence":
            if lower.startswith("jobnr"):
                continue
            values = _ints(path, lineno, line, "precedence relations")
            if len(values) < 3:
                raise PsplibFormatError(path, lineno, "precedence line needs job, modes and successor count")
            job, modes, count = values[0], values[1], values[2]
            if modes != 1:
                raise PsplibFormatError(
                    path, lineno, f"job {job} has {modes} modes; only single-mode files are supported"
                )
            if len(values) != 3 + count:
                raise PsplibFormatError(
                    path, lineno, f"job {job} declares {count} successors but lists {len(values) - 3}"
                )
            if job in successors:
                raise PsplibFormatError(path, lineno, f"job {job} listed twice in precedence relations")
            successors[job] = tuple(values[3:])
        elif section == "requests":
            if lower.startswith("jobnr"):
                continue
            values = _ints(path, lineno, line, "requests/durations")
            if n_renewable is None:
                raise PsplibFormatError(path, lineno, "requests appear before the resource count")
            if len(values) != 3 + n_renewable:
                raise PsplibFormatError(
                    path, lineno, f"expected job, mode, duration and {n_renewable} requests, got {len(values)} values"
                )
            job, duration = values[0], values[2]
            if duration < 0 or any(v < 0 for v in values[3:]):
                raise PsplibFormatError(path, lineno, f"job {job} has a negative duration or request")
            if job in durations:
                raise PsplibFormatError(path, lineno, f"job {job} listed twice in requests/durations")
            durations[job] = duration
            requests[job] = tuple(values[3:])
        elif section == "capacities":
            if line.lstrip().startswith("R") or line.lstrip().startswith("N"):
                continue
            values = _ints(path, lineno, line, "resource availabilities")
            if n_renewable is not None and len(values) != n_renewable:
                raise PsplibFormatError(
                    path, lineno, f"expected {n_renewable} resource availabilities, got {len(values)}"
                )
            capacities = tuple(values)
            section = ""

    if n_jobs is None:
        raise PsplibFormatError(path, None, "no 'jobs (incl. supersource/sink )' line")
    if n_renewable is None:
        raise PsplibFormatError(path, None, "no renewable resource count")
    if capacities is None:
        raise PsplibFormatError(path, None, "no RESOURCEAVAILABILITIES section")
    jobs = tuple(range(1, n_jobs + 1))
    for label, table in (("precedence relations", successors), ("requests/durations", durations)):
        missing = [job for job in jobs if job not in table]
        extra = [job for job in table if job not in set(jobs)]
        if missing or extra:
            raise PsplibFormatError(
                path, None, f"{label}: missing jobs {missing[:5]} / unexpected jobs {extra[:5]} for {n_jobs} jobs"
            )
    for job, succs in successors.items():
        unknown = [s for s in succs if s not in durations]
        if unknown:
            raise PsplibFormatError(path, None, f"job {job} has unknown successors {unknown}")
    return PsplibInstance(
        name=path.stem,
        jobs=jobs,
        durations=durations,
        successors=successors,
        requests=requests,
        capacities=capacities,
        horizon=horizon,
        mpm_time=mpm_time,
        due_date=due_date,
    )


def load_optimum(path: str | Path) -> dict[str, int]:
    """Known optimal makespans keyed by instance name (file stem, e.g. ``j301_1``).

    Accepts both shapes found alongside PSPLIB: the CSV (``problem,optimum``
    with ``j301_1.sm`` names) and the original ``j30hrs.sm`` solution list
    (``Par Inst Makespan ...`` rows, the instance being ``j30<Par>_<Inst>``).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="latin-1")
    except OSError as exc:
        raise PsplibFormatError(path, None, f"cannot read: {exc.strerror or exc}") from None
    result: dict[str, int] = {}
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(text.splitlines())
        if reader.fieldnames is None or not {"problem", "optimum"} <= set(reader.fieldnames):
            raise PsplibFormatError(path, 1, "expected a header with 'problem' and 'optimum'")
        for lineno, row in enumerate(reader, start=2):
            try:
                result[Path(row["problem"]).stem] = int(row["optimum"])
            except (TypeError, ValueError):
                raise PsplibFormatError(path, lineno, f"bad row {row!r}") from None
        return result
    prefix_match = re.match(r"([a-z]+\d+)", path.stem.lower())
    if prefix_match is None:
        raise PsplibFormatError(path, None, "cannot tell the instance set (e.g. j30) from the file name")
    prefix = prefix_match.group(1)
    for lineno, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if len(fields) >= 3 and fields[0].isdigit():
            if not (fields[1].isdigit() and fields[2].isdigit()):
                raise PsplibFormatError(path, lineno, f"expected 'Par Inst Makespan', got {line.strip()!r}")
            result[f"{prefix}{int(fields[0])}_{int(fields[1])}"] = int(fields[2])
    if not result:
        raise PsplibFormatError(path, None, "no 'Par Inst Makespan' rows found")
    return result
