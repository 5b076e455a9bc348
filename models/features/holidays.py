"""National public holidays of the markets gridtui knows, for the calendar features.

Owned here rather than taken from a holiday library on purpose: the calendar is
part of the feature pipeline, and a model must see the very same holidays live
as in training. A library update that adds or moves a day would silently change
the features of every trained model; here a change goes with a bump of
``models.features.pipeline.PIPELINE_VERSION``, which makes old models refuse to load.

Only nationwide days off count (regional ones, such as Germany's Corpus Christi,
are left out: a nationwide price reacts to them only weakly). A market code with
no calendar here (a zone added by configuration) simply has no holidays.
Called by :mod:`models.features.pipeline`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from functools import cache
from typing import Final

_DAY: Final = timedelta(days=1)


def easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _easter_based(year: int, *offsets: int) -> set[date]:
    easter = easter_sunday(year)
    return {easter + timedelta(days=offset) for offset in offsets}


# Offsets from Easter Sunday.
_GOOD_FRIDAY, _EASTER, _EASTER_MONDAY = -2, 0, 1
_ASCENSION, _WHIT_SUNDAY, _WHIT_MONDAY, _CORPUS_CHRISTI = 39, 49, 50, 60


def _germany(year: int) -> set[date]:
    fixed = {date(year, 1, 1), date(year, 5, 1), date(year, 10, 3)}
    fixed |= {date(year, 12, 25), date(year, 12, 26)}
    return fixed | _easter_based(year, _GOOD_FRIDAY, _EASTER_MONDAY, _ASCENSION, _WHIT_MONDAY)


def _france(year: int) -> set[date]:
    fixed = {date(year, month, day) for month, day in ((1, 1), (5, 1), (5, 8), (7, 14))}
    fixed |= {date(year, month, day) for month, day in ((8, 15), (11, 1), (11, 11), (12, 25))}
    return fixed | _easter_based(year, _EASTER_MONDAY, _ASCENSION, _WHIT_MONDAY)


def _belgium(year: int) -> set[date]:
    fixed = {date(year, month, day) for month, day in ((1, 1), (5, 1), (7, 21), (8, 15))}
    fixed |= {date(year, 11, 1), date(year, 11, 11), date(year, 12, 25)}
    return fixed | _easter_based(year, _EASTER_MONDAY, _ASCENSION, _WHIT_MONDAY)


def _netherlands(year: int) -> set[date]:
    kings_day = date(year, 4, 27)
    if kings_day.weekday() == 6:  # moved to Saturday when it falls on a Sunday
        kings_day -= _DAY
    fixed = {date(year, 1, 1), kings_day, date(year, 12, 25), date(year, 12, 26)}
    if year % 5 == 0:  # Liberation Day is a general day off in lustrum years
        fixed.add(date(year, 5, 5))
    easter = _easter_based(year, _EASTER, _EASTER_MONDAY, _ASCENSION, _WHIT_SUNDAY, _WHIT_MONDAY)
    return fixed | easter


def _austria(year: int) -> set[date]:
    fixed = {date(year, month, day) for month, day in ((1, 1), (1, 6), (5, 1), (8, 15))}
    fixed |= {date(year, month, day) for month, day in ((10, 26), (11, 1), (12, 8))}
    fixed |= {date(year, 12, 25), date(year, 12, 26)}
    return fixed | _easter_based(year, _EASTER_MONDAY, _ASCENSION, _WHIT_MONDAY, _CORPUS_CHRISTI)


def _first_monday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(7 - first.weekday()) % 7)


def _last_monday(year: int, month: int) -> date:
    last = date(year + month // 12, month % 12 + 1, 1) - _DAY
    return last - timedelta(days=last.weekday())


# Bank holidays of England and Wales that were moved or added by proclamation.
_GB_MOVED: Final[dict[int, dict[str, date]]] = {
    2020: {"early_may": date(2020, 5, 8)},  # VE Day 75
    2022: {"spring": date(2022, 6, 2)},  # Platinum Jubilee
}
_GB_EXTRA: Final[dict[int, set[date]]] = {
    2022: {date(2022, 6, 3), date(2022, 9, 19)},  # Platinum Jubilee, the Queen's funeral
    2023: {date(2023, 5, 8)},  # Coronation of King Charles III
}


def _great_britain(year: int) -> set[date]:
    """England and Wales: weekend holidays are substituted by the next weekday."""
    moved = _GB_MOVED.get(year, {})
    new_year = date(year, 1, 1)
    while new_year.weekday() >= 5:
        new_year += _DAY
    days = {
        new_year,
        moved.get("early_may", _first_monday(year, 5)),
        moved.get("spring", _last_monday(year, 5)),
        _last_monday(year, 8),
    }
    days |= _easter_based(year, _GOOD_FRIDAY, _EASTER_MONDAY)
    christmas, boxing = date(year, 12, 25), date(year, 12, 26)
    if christmas.weekday() == 5:  # Saturday: Monday and Tuesday off
        christmas, boxing = date(year, 12, 27), date(year, 12, 28)
    elif christmas.weekday() == 6:  # Sunday: Boxing Day Monday, Christmas moves to Tuesday
        christmas = date(year, 12, 27)
    elif boxing.weekday() == 5:  # Boxing Day on a Saturday moves to Monday
        boxing = date(year, 12, 28)
    return days | {christmas, boxing} | _GB_EXTRA.get(year, set())


CALENDARS: Final[dict[str, Callable[[int], set[date]]]] = {
    "DE": _germany,
    "FR": _france,
    "NL": _netherlands,
    "BE": _belgium,
    "AT": _austria,
    "GB": _great_britain,
}


@cache
def holidays_of(market: str, year: int) -> frozenset[date]:
    """The public holidays of ``market``'s country in ``year`` (empty when unknown)."""
    calendar = CALENDARS.get(market)
    return frozenset(calendar(year)) if calendar else frozenset()


def is_holiday(market: str, day: date) -> bool:
    """Whether ``day`` is a nationwide public holiday in ``market``'s country."""
    return day in holidays_of(market, day.year)
