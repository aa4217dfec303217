"""The one search engine's rules, for every searched table (catalog's songs, albums and
artists, users' names, library's playlists): words in any order, the last one a prefix,
accents and case ignored, typos forgiven from a vocabulary, ranked exact > whole words >
prefixes > fuzzy.

A searched table has a text index the database keeps (core/search_sql.py makes it):
- PostgreSQL: a `search_vector` tsvector column (the `simple` configuration over
  `music_fold`, punctuation made spaces), GIN-indexed, and a vocabulary table of every word
  seen (pg_trgm-indexed) for the fuzzy step;
- SQLite: an FTS5 table `<table>_search` (unicode61, remove_diacritics 2, prefix indexes),
  rowid = the row's id, kept by triggers; the vocabulary is a view of their fts5vocab tables.

A term is cut into words here (letters and digits; everything else separates them), at most
MAX_WORDS of at most MAX_WORD_LENGTH characters each, folded as the database folds the
indexed text; each word is quoted for the query language (tsquery or FTS5), so no input is
ever read as an operator. A term without any word (only emoji or punctuation) matches by a
literal "contains" of the whole term instead (`literal_match`).
"""

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import BooleanField, F, Func, IntegerField

MAX_WORDS = 8
MAX_WORD_LENGTH = 40
# Vocabulary words offered for one unknown word, and how alike they must be (pg_trgm's
# similarity, the same formula on SQLite): "beyonse" -> "beyonce" is 0.45.
FUZZY_ALTERNATIVES = 3
FUZZY_MIN_SIMILARITY = 0.3

_WORD = re.compile(r"[^\W_]+")
# Letters unaccent (PostgreSQL) spells out that Unicode does not decompose.
_UNACCENT_EXTRA = str.maketrans(
    {
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "ß": "ss",
        "æ": "ae",
        "œ": "oe",
        "\u0131": "i",
    }
)


@dataclass(frozen=True)
class TextIndex:
    """A searched table: `exact` are the columns (database names) whose whole value equal to
    the term ranks first; `vocabulary` the PostgreSQL table of its words."""

    table: str
    exact: tuple[str, ...]
    vocabulary: str

    @property
    def fts(self) -> str:
        return f"{self.table}_search"


def _postgresql() -> bool:
    return connection.vendor == "postgresql"


def fold(text: str) -> str:
    """Text as the index holds it: lower case, accents off (and on PostgreSQL the letters
    unaccent spells out, as `ø` -> `o`; SQLite's unicode61 keeps those)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.translate(_UNACCENT_EXTRA) if _postgresql() else stripped


def words_of(term: str) -> list[str]:
    """The term's words as the index cuts and folds them, in order, duplicates kept once."""
    words: list[str] = []
    for word in _WORD.findall(fold(term[: MAX_WORDS * (MAX_WORD_LENGTH + 8)])):
        word = word[:MAX_WORD_LENGTH]
        if word not in words:
            words.append(word)
        if len(words) == MAX_WORDS:
            break
    return words


@dataclass(frozen=True)
class Query:
    """Word groups (each: the word and, after the fuzzy step, its alternatives), every group
    to be found; the last word is a prefix when `prefix`."""

    groups: tuple[tuple[str, ...], ...]
    prefix: bool = True

    @classmethod
    def of(cls, words: Sequence[str], *, prefix: bool = True) -> "Query":
        return cls(tuple((word,) for word in words), prefix)

    def text(self) -> str:
        """The query in the database's own language, every word quoted."""
        last = len(self.groups) - 1
        if _postgresql():

            def lexeme(word: str, is_prefix: bool) -> str:
                quoted = word.replace("\\", "\\\\").replace("'", "''")
                return f"'{quoted}'" + (":*" if is_prefix else "")

            join, either = " & ", " | "
        else:

            def lexeme(word: str, is_prefix: bool) -> str:
                return '"' + word.replace('"', '""') + '"' + ("*" if is_prefix else "")

            join, either = " AND ", " OR "
        parts = []
        for at, group in enumerate(self.groups):
            options = [lexeme(w, self.prefix and at == last and w == group[0]) for w in group]
            parts.append(options[0] if len(options) == 1 else "(" + either.join(options) + ")")
        return join.join(parts)


def _alias(compiler, connection, pk) -> tuple[str, str]:
    """The compiled primary key ("alias"."id") and its table alias."""
    pk_sql, _ = compiler.compile(pk)
    return pk_sql, pk_sql.rsplit(".", 1)[0]


class Matches(Func):
    """The row is found by `query` in `index`: a WHERE condition on either database."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, index: TextIndex, query: Query, pk: str = "pk") -> None:
        super().__init__(F(pk))
        self.index, self.query = index, query

    def as_sql(self, compiler, connection, **extra):
        pk_sql, alias = _alias(compiler, connection, self.source_expressions[0])
        if connection.vendor == "postgresql":
            return f"{alias}.search_vector @@ %s::tsquery", [self.query.text()]
        fts = connection.ops.quote_name(self.index.fts)
        found = f"{pk_sql} IN (SELECT rowid FROM {fts} WHERE {fts} MATCH %s)"  # noqa: S608
        return found, [self.query.text()]


class Tier(Func):
    """How well a found row matches `term`: 3 when one of `index.exact` is the whole term,
    2 when every word is found whole, else 1 (the last word only as a prefix).

    SQLite cannot fold accents in SQL, so there "the whole term" is a column whose FTS5
    tokens start with the term's words and whose length is the term's."""

    output_field = IntegerField()

    def __init__(self, index: TextIndex, term: str, words: Sequence[str]) -> None:
        super().__init__(F("pk"))
        self.index, self.term, self.words = index, " ".join(term.split()), list(words)

    def as_sql(self, compiler, connection, **extra):
        pk_sql, alias = _alias(compiler, connection, self.source_expressions[0])
        quote = connection.ops.quote_name
        whole = Query.of(self.words, prefix=False).text()
        if connection.vendor == "postgresql":
            exact = " OR ".join(
                f"music_fold({alias}.{quote(column)}) = music_fold(%s)"
                for column in self.index.exact
            )
            sql = (
                f"CASE WHEN {exact} THEN 3 WHEN {alias}.search_vector @@ %s::tsquery THEN 2"
                " ELSE 1 END"
            )
            return sql, [*[self.term] * len(self.index.exact), whole]
        fts = quote(self.index.fts)
        found = f"{pk_sql} IN (SELECT rowid FROM {fts} WHERE {fts} MATCH %s)"  # noqa: S608
        every = [word[:MAX_WORD_LENGTH] for word in _WORD.findall(fold(self.term))]
        phrase = '"' + " ".join(every[: MAX_WORDS * 2]).replace('"', '""') + '"'
        exact, params = [], []
        for column in self.index.exact:
            exact.append(f"(length({alias}.{quote(column)}) = %s AND {found})")
            params += [len(self.term), f"{column} : ^ {phrase}"]
        sql = f"CASE WHEN {' OR '.join(exact)} THEN 3 WHEN {found} THEN 2 ELSE 1 END"
        return sql, [*params, whole]


# The words the last word may be the start of that the search box's prefix pass looks for,
# first in the vocabulary's order: a short start ("1", "so") names thousands.
COMPLETIONS = 16


@dataclass(frozen=True)
class Vocabulary:
    """What a searched table's vocabulary says of a term's words: which it holds, and up to
    COMPLETIONS words that start with the last one (other than itself)."""

    known: tuple[bool, ...]
    completions: tuple[str, ...]

    @property
    def may_match(self) -> bool:
        """Whether a row may hold every word (the last whole or as a prefix)."""
        return all(self.known[:-1]) and (self.known[-1] or bool(self.completions))


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _kept(kind: str, index: TextIndex, words: Sequence[str], compute):
    """`compute()`, kept SEARCH_CACHE_SECONDS per vocabulary and words: the search box asks
    once per kind, and catalog's kinds share one vocabulary."""
    seconds = settings.SEARCH_CACHE_SECONDS
    identity = "\0".join([kind, connection.alias, index.vocabulary, *words])
    key = "core:search-words:" + hashlib.sha256(identity.encode()).hexdigest()
    value = cache.get(key) if seconds else None
    if value is None:
        value = compute()
        if seconds:
            cache.set(key, value, seconds)
    return value


def looked_up(index: TextIndex, words: Sequence[str]) -> Vocabulary:
    """The vocabulary's word on `words`, in one query (on PostgreSQL the vocabulary's
    C-collated primary key answers both the equalities and the prefix range)."""

    def compute() -> Vocabulary:
        with connection.cursor() as cursor:
            if _postgresql():
                vocabulary = connection.ops.quote_name(index.vocabulary)
                cursor.execute(
                    "SELECT ARRAY(SELECT EXISTS (SELECT 1 FROM {v} AS known"
                    " WHERE known.word = asked.word) FROM unnest(%s::text[]) WITH ORDINALITY"
                    " AS asked (word, ordinal) ORDER BY ordinal), ARRAY(SELECT word FROM {v}"
                    " WHERE word LIKE %s AND word <> %s ORDER BY word LIMIT %s)".replace(
                        "{v}", vocabulary
                    ),
                    [list(words), _escape_like(words[-1]) + "%", words[-1], COMPLETIONS],
                )
                known, started = cursor.fetchone()
                return Vocabulary(tuple(known), tuple(started))
            vocabulary = connection.ops.quote_name(index.vocabulary)
            marks = ", ".join(["%s"] * len(words))
            cursor.execute(
                f"SELECT 0, word FROM {vocabulary} WHERE word IN ({marks}) UNION ALL"  # noqa: S608
                f" SELECT * FROM (SELECT 1, word FROM {vocabulary} WHERE word > %s"
                " AND word < %s ORDER BY word LIMIT %s)",
                [*words, words[-1], words[-1] + "\U0010ffff", COMPLETIONS],
            )
            rows = cursor.fetchall()
            held = {word for started, word in rows if not started}
            started = tuple(word for is_started, word in rows if is_started)
            return Vocabulary(tuple(word in held for word in words), started)

    return _kept("vocabulary", index, words, compute)


def _trigrams(word: str) -> set[str]:
    padded = f"  {word} "
    return {padded[at : at + 3] for at in range(len(padded) - 2)}


def similarity(one: str, other: str) -> float:
    """pg_trgm's similarity: shared trigrams over all trigrams of both words."""
    a, b = _trigrams(one), _trigrams(other)
    return len(a & b) / len(a | b) if a or b else 0.0


def _like_postgresql(index: TextIndex, word: str) -> list[str]:
    """The vocabulary's words most like `word` (pg_trgm's `%` on its trigram index)."""
    vocabulary = connection.ops.quote_name(index.vocabulary)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT word FROM {vocabulary} WHERE word %% %s"  # noqa: S608
            " ORDER BY similarity(word, %s) DESC, word LIMIT %s",
            [word, word, FUZZY_ALTERNATIVES],
        )
        return [row[0] for row in cursor.fetchall()]


def _like_sqlite(index: TextIndex, word: str) -> list[str]:
    """As `_like_postgresql`, from the FTS5 tables' vocabulary: SQLite has no trigram
    index, so `word` is compared (in Python, pg_trgm's formula) with the vocabulary's words
    of about its length; a catalog kept in SQLite is small."""
    vocabulary = connection.ops.quote_name(index.vocabulary)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT word FROM {vocabulary} WHERE length(word) BETWEEN %s AND %s",  # noqa: S608
            [len(word) - 2, len(word) + 2],
        )
        scored = [(similarity(word, term), term) for (term,) in cursor.fetchall()]
    scored = sorted(pair for pair in scored if pair[0] >= FUZZY_MIN_SIMILARITY)
    scored.sort(key=lambda pair: -pair[0])
    return [term for _, term in scored[:FUZZY_ALTERNATIVES]]


def fuzzy_query(index: TextIndex, words: Sequence[str]) -> Query | None:
    """The query with each word the vocabulary does not hold (the last: nor any word it
    starts) widened to the vocabulary's words most like it; None when every word is known
    or no unknown one has a like word (the fuzzy step would find nothing new)."""
    vocabulary = looked_up(index, words)
    last = len(words) - 1

    def compute() -> tuple[tuple[str, ...], ...]:
        like = _like_postgresql if _postgresql() else _like_sqlite
        groups = []
        for at, word in enumerate(words):
            if vocabulary.known[at] or (at == last and vocabulary.completions):
                groups.append((word,))
            else:
                groups.append((word, *[other for other in like(index, word) if other != word]))
        return tuple(groups)

    groups = _kept("fuzzy", index, words, compute)
    if all(len(group) == 1 for group in groups):
        return None
    return Query(groups, prefix=True)
