"""Working-day calendars: weekends, public holidays, make-up working days (调休) and personal days off.

Scheduling arithmetic happens on *working-day indices* (0, 1, 2, … over the
working days only), so a duration of 5 is always five working days whatever
holidays fall in between. The calendar converts between dates and indices with
vectorised lookups over precomputed NumPy arrays, because CPM and Monte Carlo
convert hundreds of thousands of dates at once.

Where the data come from:

* ``"CN"``: ``chinesecalendar`` for the years it ships (2004 to about 2026),
  which knows the State Council's 调休 swaps (e.g. Sunday 2024-09-29 is a
  working day so that 2024-10-01..07 can be a week off). Outside those years it
  falls back to ``holidays.country_holidays("CN")`` plus weekends, which knows the
  holidays but not the make-up working days, plus the ``[calendar] holidays`` /
  ``workdays`` lists of the configuration (ISO dates: the State Council's notice
  for a year the package does not ship yet). A year with neither is logged once
  per process as a warning naming the year, never silently planned without 调休.
* any other country: ``holidays.country_holidays(code)`` plus the weekend days.
* ``country=None``: the weekend and the explicit days off only (a calendar read from MS Project).

``WorkCalendar.from_settings(settings)`` is the one way the application builds its
calendar (CPM, forecasts, levelling, the plan page, predictions, the demo company),
so every part of Lodestar counts the same working days.

Indices are relative to an *anchor* (index 0 is the first working day on or after
it). The anchor is fixed on first use, and the covered range grows lazily in both
directions without renumbering, so an index stays valid for the lifetime of the
calendar instance. Indices from two calendar instances are not comparable.

The calendar spans ``bounds.MIN_DATE..MAX_DATE`` (1900-2200) and has no working days
outside it: a date before 1900 rolls forward to the first working day of 1900 (and
backward to the index just before it), a date after 2200 to the index just after the
last working day of 2200, so one absurd date in an array never makes a lookup raise.
Only asking for the *date* of an index beyond the span does (``CalendarRangeError``):
that is a schedule running past 2200, which the caller reports for its project.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Literal

import logging

import chinese_calendar
import holidays as holidays_lib
import numpy as np

from models.planning.bounds import MAX_DATE, MIN_DATE

Roll = Literal["forward", "backward"]

_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)
_MIN_YEAR, _MAX_YEAR = MIN_DATE.year, MAX_DATE.year
_MIN_DAY, _MAX_DAY = np.datetime64(MIN_DATE, "D"), np.datetime64(MAX_DATE, "D")
_CN_DATA_YEARS = (
    min(d.year for d in chinese_calendar.holidays),
    max(d.year for d in chinese_calendar.holidays),
)


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

log = logging.getLogger(__name__)
_WARNED_YEARS: set[int] = set()
"""Years already reported as missing from chinesecalendar in this process (said once, not per calendar)."""


def _year_spans(years: list[int]) -> str:
    """2027, 2028, 2030 as "2027-2028, 2030"."""
    spans: list[list[int]] = []
    for year in sorted(years):
        if spans and year == spans[-1][1] + 1:
            spans[-1][1] = year
        else:
            spans.append([year, year])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def _warn_missing_years(years: list[int]) -> None:
    new = [y for y in years if y not in _WARNED_YEARS]
    if not new:
        return
    _WARNED_YEARS.update(new)
    log.warning(
        "chinesecalendar has no holiday data for %s: without its 调休 make-up working days, Lodestar counts "
        "weekends and the `holidays` package's public holidays there; list the State Council's days off and "
        "make-up working days in lodestar.toml under [calendar] holidays / workdays (ISO dates)",
        _year_spans(new),
    )


def _to_day(value: date | datetime | np.datetime64 | str) -> np.datetime64:
    if isinstance(value, datetime):
        value = value.date()
    return np.datetime64(value, "D")


def _to_days(values) -> tuple[np.ndarray, bool]:
    """Dates (scalar or array-like) as a datetime64[D] array, and whether the input was a scalar."""
    if isinstance(values, (date, datetime, np.datetime64, str)):
        return np.array([_to_day(values)]), True
    array = np.asarray(values)
    if array.dtype.kind == "M":
        return array.astype("datetime64[D]"), False
    return np.array([_to_day(v) for v in array.ravel()], dtype="datetime64[D]").reshape(array.shape), False


class CalendarRangeError(ValueError):
    """A working-day index whose date would fall outside the calendar's span (1900-2200)."""


def _as_date(day: np.datetime64) -> date:
    return day.astype("datetime64[D]").astype(date)


def _as_iso(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


class WorkCalendar:
    """Working days of one country (and optionally one person), with vectorised date ⇄ index conversion.

    ``extra_workdays`` override holidays and weekends (a Saturday release); ``extra_days_off``
    override everything else (company shutdown, a person's leave), so days off always win.
    """

    def __init__(
        self,
        country: str | None = "CN",
        *,
        subdiv: str | None = None,
        extra_days_off: Iterable[date] = (),
        extra_workdays: Iterable[date] = (),
        weekend: Iterable[int] = (5, 6),
        anchor: date | None = None,
        listed_years: Iterable[int] = (),
    ) -> None:
        """``listed_years``: years whose days off and make-up days the configuration lists (no warning for them)."""
        self.country = country.upper() if country else None
        self.listed_years = frozenset(listed_years)
        self.subdiv = subdiv
        self.extra_days_off = frozenset(extra_days_off)
        self.extra_workdays = frozenset(extra_workdays)
        self.weekend = frozenset(weekend)
        self._off = np.array(sorted(self.extra_days_off), dtype="datetime64[D]")
        self._on = np.array(sorted(self.extra_workdays), dtype="datetime64[D]")
        self._anchor: np.datetime64 | None = None if anchor is None else _to_day(anchor)
        self._lo = self._hi = np.datetime64("1970-01-01", "D")
        self._mask = np.zeros(0, dtype=bool)      # working day? per calendar day in [lo, hi)
        self._cum = np.zeros(1, dtype=np.int64)   # working days in [lo, lo + k)
        self._days = np.zeros(0, dtype="datetime64[D]")  # the working days in [lo, hi)
        self._base = 0                            # working-day index of _days[0]
        self._lo_day = self._hi_day = 0           # _lo and _hi as days since 1970, for the scalar fast path

    @classmethod
    def from_settings(cls, settings=None) -> WorkCalendar:
        """The company calendar of a ``Settings`` (or its ``CalendarSettings``); None: the default settings' one.

        ``[calendar] country`` chooses the public holidays ("" for weekends only) and
        ``[calendar] holidays`` / ``workdays`` add days off and make-up working days, for
        a year ``chinesecalendar`` does not know yet or a company shutdown.
        """
        config = getattr(settings, "calendar", settings)
        if config is None:
            from warehouse.settings import CalendarSettings

            config = CalendarSettings()
        days_off = [_as_iso(d) for d in getattr(config, "holidays", ())]
        workdays = [_as_iso(d) for d in getattr(config, "workdays", ())]
        return cls(config.country or None, extra_days_off=days_off, extra_workdays=workdays,
                   listed_years={d.year for d in (*days_off, *workdays)})

    def __repr__(self) -> str:
        return (f"WorkCalendar({self.country!r}, days_off={len(self.extra_days_off)}, "
                f"workdays={len(self.extra_workdays)})")

    # ----------------------------------------------------------------- building

    def for_person(self, days_off: Iterable[date]) -> WorkCalendar:
        """The same calendar with a person's days off (leave, part-time days) added.

        The anchor is shared so indices of the team calendar and the person's calendar start
        from the same date, which keeps levelling output easy to read side by side.
        """
        self._ensure_anchor(None)
        return WorkCalendar(
            self.country,
            subdiv=self.subdiv,
            extra_days_off=self.extra_days_off | frozenset(days_off),
            extra_workdays=self.extra_workdays,
            weekend=self.weekend,
            anchor=_as_date(self._anchor),
            listed_years=self.listed_years,
        )

    def _working_mask(self, lo: np.datetime64, hi: np.datetime64) -> np.ndarray:
        """Working-day flags for the calendar days in [lo, hi), computed for whole arrays at once."""
        days = np.arange(lo, hi, dtype="datetime64[D]")
        weekday = (days.astype(np.int64) + _EPOCH_WEEKDAY) % 7
        mask = ~np.isin(weekday, list(self.weekend))
        years = days.astype("datetime64[Y]").astype(np.int64) + 1970
        first, last = int(years[0]), int(years[-1])
        if self.country == "CN":
            in_data = (years >= _CN_DATA_YEARS[0]) & (years <= _CN_DATA_YEARS[1])
            cn_off = np.array(sorted(chinese_calendar.holidays), dtype="datetime64[D]")
            cn_on = np.array(sorted(chinese_calendar.workdays), dtype="datetime64[D]")
            mask[in_data & np.isin(days, cn_off)] = False
            mask[in_data & np.isin(days, cn_on)] = True
            fallback_years = [y for y in range(first, last + 1)
                              if not _CN_DATA_YEARS[0] <= y <= _CN_DATA_YEARS[1]]
            _warn_missing_years([y for y in fallback_years if y not in self.listed_years])
        elif self.country is None:
            fallback_years = []
        else:
            fallback_years = list(range(first, last + 1))
        if fallback_years:
            public = holidays_lib.country_holidays(self.country, subdiv=self.subdiv, years=fallback_years)
            off = np.array(sorted(public.keys()), dtype="datetime64[D]")
            mask[np.isin(days, off)] = False
        mask[np.isin(days, self._on)] = True
        mask[np.isin(days, self._off)] = False
        return mask

    def _ensure_anchor(self, first_use: np.datetime64 | None) -> None:
        if self._anchor is None:
            seed = first_use if first_use is not None else np.datetime64(date.today(), "D")
            self._anchor = seed.astype("datetime64[Y]").astype("datetime64[D]")
        if self._mask.size == 0:
            year = int(self._anchor.astype("datetime64[Y]").astype(np.int64)) + 1970
            self._lo = np.datetime64(f"{year}-01-01", "D")
            self._hi = np.datetime64(f"{year + 1}-01-01", "D")
            self._mask = self._working_mask(self._lo, self._hi)
            self._rebuild(base=-int(self._mask[: int((self._anchor - self._lo).astype(int))].sum()))

    def _rebuild(self, base: int) -> None:
        self._cum = np.concatenate(([0], np.cumsum(self._mask, dtype=np.int64)))
        self._lo_day, self._hi_day = int(self._lo.astype(np.int64)), int(self._hi.astype(np.int64))
        self._days = self._lo + np.flatnonzero(self._mask).astype("timedelta64[D]")
        self._base = base

    def _extend_years(self, earlier: int = 0, later: int = 0) -> bool:
        """Grow the covered range by whole years, never past 1900-2200; existing indices keep their meaning.

        Returns whether anything was added (False once the range already reaches the limit asked for).
        """
        current_lo = int(self._lo.astype("datetime64[Y]").astype(np.int64)) + 1970
        current_hi = int(self._hi.astype("datetime64[Y]").astype(np.int64)) + 1970
        lo_year = max(current_lo - earlier, _MIN_YEAR)
        hi_year = min(current_hi + later, _MAX_YEAR + 1)
        if lo_year == current_lo and hi_year == current_hi:
            return False
        base = self._base
        if lo_year < current_lo:
            new_lo = np.datetime64(f"{lo_year}-01-01", "D")
            head = self._working_mask(new_lo, self._lo)
            base -= int(head.sum())
            self._mask = np.concatenate((head, self._mask))
            self._lo = new_lo
        if hi_year > current_hi:
            new_hi = np.datetime64(f"{hi_year}-01-01", "D")
            self._mask = np.concatenate((self._mask, self._working_mask(self._hi, new_hi)))
            self._hi = new_hi
        self._rebuild(base)
        return True

    def _cover_days(self, days: np.ndarray) -> None:
        """Build the range for dates already clipped to 1900-2200."""
        if days.size == 0:
            self._ensure_anchor(None)
            return
        lo, hi = days.min(), days.max()
        self._ensure_anchor(lo)
        # one year of margin either side: a finish date is usually followed by a slightly later lookup
        if lo < self._lo:
            self._extend_years(earlier=int((self._lo - lo).astype(int)) // 365 + 1)
        if hi + np.timedelta64(7, "D") >= self._hi:
            self._extend_years(later=int((hi - self._hi).astype(int)) // 365 + 2)

    def _cover_indices(self, lo: int, hi: int) -> None:
        self._ensure_anchor(None)
        while lo < self._base:
            if not self._extend_years(earlier=max(1, (self._base - lo) // 240 + 1)):
                raise CalendarRangeError(f"a working day before {MIN_DATE.isoformat()} was asked for: "
                                         "the schedule starts before the calendar does")
        while hi >= self._base + self._days.size:
            if not self._extend_years(later=max(1, (hi - self._base - self._days.size) // 240 + 1)):
                raise CalendarRangeError(f"a working day after {MAX_DATE.isoformat()} was asked for: "
                                         "the schedule runs longer than the calendar covers")

    def _in_span(self, days: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """Days clipped to 1900-2200 and built, with masks of those that were before and after it (None: none)."""
        before, after = days < _MIN_DAY, days > _MAX_DAY
        has_before, has_after = bool(before.any()), bool(after.any())
        if has_before or has_after:
            days = np.clip(days, _MIN_DAY, _MAX_DAY)
        self._cover_days(days)
        return days, (before if has_before else None), (after if has_after else None)

    # -------------------------------------------------------------- conversions

    def is_workday(self, dates) -> bool | np.ndarray:
        """Whether each date is a working day (scalar in, bool out; array in, bool array out)."""
        days, scalar = _to_days(dates)
        days, before, after = self._in_span(days)
        result = self._mask[(days - self._lo).astype(np.int64)]
        for outside in (before, after):
            if outside is not None:
                result[outside] = False
        return bool(result[0]) if scalar else result

    def index_of(self, dates, roll: Roll = "forward") -> int | np.ndarray:
        """Working-day index of each date.

        A non-working date has no index of its own: ``roll="forward"`` maps it to the next
        working day (right for starts: work planned on a Sunday begins on Monday) and
        ``roll="backward"`` to the previous one (right for finishes and "no later than" dates).
        """
        if type(dates) is date and self._mask.size and roll in ("forward", "backward"):
            # Scalar fast path (CPM and plan loading convert dates one task at a time):
            # plain integer arithmetic when the date is already well inside the built range.
            day = dates.toordinal() - _EPOCH_ORDINAL
            if self._lo_day <= day and day + 7 < self._hi_day:
                offset = day - self._lo_day
                if roll == "forward":
                    return int(self._base + self._cum[offset])
                return int(self._base + self._cum[offset + 1] - 1)
        if roll not in ("forward", "backward"):
            raise ValueError(f"roll must be 'forward' or 'backward', not {roll!r}")
        days, scalar = _to_days(dates)
        days, before, after = self._in_span(days)
        offset = (days - self._lo).astype(np.int64)
        forward = self._base + self._cum[offset]
        backward = self._base + self._cum[offset + 1] - 1
        # no working days outside the span: before 1900 the next one is the first of 1900 (forward)
        # and the previous one is just before it; after 2200 the reverse
        if before is not None:
            backward[before] = forward[before] - 1
        if after is not None:
            forward[after] = backward[after] + 1
        result = forward if roll == "forward" else backward
        return int(result[0]) if scalar else result

    def date_of(self, indices) -> date | np.ndarray:
        """Date of each working-day index; fractional indices are floored to the day they fall in.

        Scalar in gives a ``datetime.date``; array in gives a ``datetime64[D]`` array.
        """
        scalar = np.ndim(indices) == 0
        whole = np.floor(np.asarray(indices, dtype=np.float64)).astype(np.int64)
        if whole.size:
            self._cover_indices(int(whole.min()), int(whole.max()))
        else:
            self._ensure_anchor(None)
        if scalar:
            return _as_date(self._days[int(whole) - self._base])
        return self._days[whole - self._base]

    def add_workdays(self, start: date, n: int, roll: Roll = "forward") -> date:
        """The date ``n`` working days after ``start`` (before it when ``n`` is negative).

        ``start`` is first rolled to a working day, so ``add_workdays(saturday, 0)`` is the
        following Monday with the default roll, as in ``numpy.busday_offset``.
        """
        return self.date_of(self.index_of(start, roll) + int(n))

    def workdays_between(self, a, b) -> int | np.ndarray:
        """Working days from ``a`` to ``b``, both included; 0 when ``b`` is before ``a``.

        Inclusive because that is what a task from ``a`` to ``b`` takes: Monday..Friday is 5.
        Works on scalars or equal-length arrays.
        """
        start = np.asarray(self.index_of(a, "forward"))
        finish = np.asarray(self.index_of(b, "backward"))
        count = np.maximum(finish - start + 1, 0)
        return int(count) if count.ndim == 0 else count

    def workdays(self, a: date, b: date) -> list[date]:
        """The working days from ``a`` to ``b`` inclusive, for display and tests."""
        first, last = self.index_of(a, "forward"), self.index_of(b, "backward")
        if last < first:
            return []
        return [d.astype(date) for d in self.date_of(np.arange(first, last + 1))]
