"""Random rule sets over random songs: the database (library.smart) and a plain Python filter
over the same rows take the same songs in the same order."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from library import smart
from library.smart_schemas import SmartRules
from library.tests import smart_rows as rows

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
# ASCII letters only: SQLite folds the case of these alone (library/smart.py).
WORDS = st.text(alphabet="abAB", min_size=1, max_size=3)
NAMES = st.sampled_from(["ab", "Ba", "abb"])
DAY = st.integers(min_value=0, max_value=20)

song_rows = st.fixed_dictionaries(
    {
        "title": WORDS,
        "artist": NAMES,
        "album": st.none() | NAMES,
        "genre": st.none() | NAMES,
        "year": st.none() | st.integers(1990, 1993),
        "duration": st.integers(1, 4),
        "added_days_ago": DAY,
        "added_hour": st.integers(0, 23),
        "plays_days_ago": st.lists(DAY, max_size=3),
        "others_plays": st.integers(0, 2),
        "liked": st.booleans(),
        "rating": st.integers(0, 5),
    }
)

TEXT = ("title", "artist", "album", "genre")
NUMBERS = {"year": st.integers(1989, 1994), "duration": st.integers(0, 5)}
NUMBERS |= {"play_count": st.integers(-1, 3), "rating": st.integers(0, 5)}
DATES = ("date_added", "last_played")
A_DATE = st.integers(0, 20).map(lambda days: (NOW - timedelta(days=days)).date().isoformat())


def _pair(values: st.SearchStrategy) -> st.SearchStrategy:
    return st.tuples(values, values).map(lambda pair: sorted(pair))


def _rule(field: str, operator: str, value: st.SearchStrategy) -> st.SearchStrategy:
    return value.map(lambda chosen: {"field": field, "operator": operator, "value": chosen})


text_rules = st.one_of(
    _rule(field, operator, WORDS)
    for field in TEXT
    for operator in ("is", "is_not", "contains", "not_contains", "starts_with", "ends_with")
)
number_rules = st.one_of(
    *(
        _rule(field, operator, values)
        for field, values in NUMBERS.items()
        for operator in ("is", "is_not", "gt", "lt")
    ),
    *(_rule(field, "in_range", _pair(values)) for field, values in NUMBERS.items()),
)
date_rules = st.one_of(
    *(
        _rule(field, operator, st.integers(1, 20))
        for field in DATES
        for operator in ("in_the_last_days", "not_in_the_last_days")
    ),
    *(_rule(field, operator, A_DATE) for field in DATES for operator in ("before", "after")),
    *(_rule(field, "in_range", _pair(A_DATE)) for field in DATES),
)
rule = st.one_of(text_rules, number_rules, date_rules, _rule("liked", "is", st.booleans()))


def _groups(children: st.SearchStrategy) -> st.SearchStrategy:
    return st.fixed_dictionaries(
        {
            "match": st.sampled_from(["all", "any"]),
            "rules": st.lists(children, min_size=1, max_size=3),
        }
    )


rule_sets = st.builds(
    lambda group, sort, order, limit: {**group, "sort": sort, "order": order, "limit": limit},
    _groups(st.one_of(rule, _groups(rule))),
    st.sampled_from([*TEXT, *NUMBERS, *DATES, "liked"]),
    st.sampled_from(["asc", "desc"]),
    st.integers(1, 15),
)


# --- The plain Python filter ---------------------------------------------------------------


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _text(value: str | None, operator: str, wanted: str) -> bool:
    if value is None:
        return operator in ("is_not", "not_contains")
    value, wanted = value.lower(), wanted.lower()
    return {
        "is": value == wanted,
        "is_not": value != wanted,
        "contains": wanted in value,
        "not_contains": wanted not in value,
        "starts_with": value.startswith(wanted),
        "ends_with": value.endswith(wanted),
    }[operator]


def _compare(value, operator: str, wanted) -> bool:
    if value is None:
        return operator in ("is_not", "not_in_the_last_days")
    if operator == "in_range":
        low, high = wanted
        if isinstance(low, date):
            return _day_start(low) <= value < _day_start(high + timedelta(days=1))
        return low <= value <= high
    if operator == "in_the_last_days":
        return value >= NOW - timedelta(days=wanted)
    if operator == "not_in_the_last_days":
        return value < NOW - timedelta(days=wanted)
    if operator == "before":
        return value < _day_start(wanted)
    if operator == "after":
        return value >= _day_start(wanted + timedelta(days=1))
    return {"is": value == wanted, "is_not": value != wanted}.get(
        operator, (operator == "gt" and value > wanted) or (operator == "lt" and value < wanted)
    )


def _holds(node, song: dict) -> bool:
    if hasattr(node, "match"):
        results = (_holds(child, song) for child in node.rules)
        return all(results) if node.match == "all" else any(results)
    if node.field in TEXT:
        return _text(song[node.field], node.operator, node.value)
    return _compare(song[node.field], node.operator, node.value)


def python_filter(rules: SmartRules, songs: list[dict]) -> list[int]:
    taken = sorted((song for song in songs if _holds(rules, song)), key=lambda song: song["id"])

    def key(song: dict):
        value = song[rules.sort]
        return value.lower() if rules.sort in TEXT else value

    valued = [song for song in taken if song[rules.sort] is not None]
    empty = [song for song in taken if song[rules.sort] is None]
    # Stable sorts: ties keep the id order in both directions; no value last either way.
    valued.sort(key=key, reverse=rules.order == "desc")
    return [song["id"] for song in valued + empty][: rules.limit]


# --- The test -------------------------------------------------------------------------------


def _write(made: list[dict], owner, other) -> list[dict]:
    songs = []
    for row in made:
        added = NOW - timedelta(days=row["added_days_ago"], hours=row["added_hour"])
        album = rows.album(row["album"]) if row["album"] is not None else None
        song = rows.song(
            row["title"],
            row["artist"],
            album=album,
            genre=row["genre"],
            year=row["year"],
            duration=row["duration"],
            created_at=added,
        )
        played = [NOW - timedelta(days=days, minutes=7) for days in row["plays_days_ago"]]
        rows.plays(owner, song, *played)
        rows.plays(other, song, *[NOW] * row["others_plays"])
        # Someone else's likes and plays must not count: the rules read the owner's.
        rows.like(owner if row["liked"] else other, song)
        if row["rating"]:
            rows.rate(owner, song, row["rating"])
        songs.append(
            {
                "id": song.pk,
                "title": row["title"],
                "artist": row["artist"],
                "album": row["album"],
                "genre": row["genre"],
                "year": row["year"],
                "duration": row["duration"],
                "date_added": added,
                "play_count": len(played),
                "last_played": max(played, default=None),
                "liked": row["liked"],
                "rating": row["rating"],
            }
        )
    return songs


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(made=st.lists(song_rows, min_size=1, max_size=8), raw_rules=rule_sets)
def test_the_database_and_a_python_filter_agree(make_user, made, raw_rules):
    rules = SmartRules.model_validate(raw_rules)
    with transaction.atomic():
        owner, other = make_user(), make_user()
        songs = _write(made, owner, other)
        taken = smart.smart_items(rules=rules, owner_id=owner.pk, now=NOW)
        in_database = list(taken.values_list("id", flat=True))
        # The preview's path (no row numbers) takes the same first songs.
        previewed = smart.matching_songs(rules=rules, owner_id=owner.pk, now=NOW)
        first = list(previewed.values_list("id", flat=True)[: rules.limit])
        transaction.set_rollback(True)

    expected = python_filter(rules, songs)
    assert in_database == expected
    assert first == expected
