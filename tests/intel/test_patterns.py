"""STIX 2.1 patterns: the fast path of ``validate_pattern`` must agree with the OASIS grammar.

``validate_pattern`` accepts simple patterns with a regular expression and sends everything else
to ``stix2patterns``. The property tests generate grammar-ish patterns (and junk) and check that
the fast path never accepts what the grammar refuses, nor refuses what it accepts.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from stix2patterns.validator import run_validator

from nordcert.intel import patterns
from nordcert.intel.patterns import comparisons, validate_pattern
from nordcert.intel.validate import ObjectError, check_object
from tests.factories import indicator

# Hypothesis' failure report touches mypy_extensions.TypedDict, deprecated: keep the report readable.
pytestmark = pytest.mark.filterwarnings("ignore:mypy_extensions.TypedDict is deprecated:DeprecationWarning")

MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

_PROPERTY_SETTINGS = hsettings(
    max_examples=300,
    deadline=None,
    database=None,  # nothing written outside the test tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def grammar_ok(pattern: str) -> bool:
    problems: list[str] = run_validator(pattern, stix_version="2.1")
    return problems == []


def grammar_accepts(pattern: str) -> bool:
    """The OASIS grammar's verdict; an exception inside stix2-patterns counts as a refusal."""
    try:
        return grammar_ok(pattern)
    except Exception:  # noqa: BLE001 - stix2-patterns' inspector crashes on a few inputs (e.g. a negative index)
        return False


def agree(pattern: str) -> None:
    fast = validate_pattern(pattern)  # never raises
    assert isinstance(fast, list) and all(isinstance(p, str) and p for p in fast)
    assert (fast == []) == grammar_accepts(pattern), (pattern, fast)


# --- examples ------------------------------------------------------------------------------------

VALID = [
    "[ipv4-addr:value = '198.51.100.1']",
    "[ipv4-addr:value = '198.51.100.1/32']",
    "[domain-name:value = 'example.com' OR domain-name:value = 'example.org']",
    "[url:value = 'http://example.com/a?b=c']",
    f"[file:hashes.MD5 = '{MD5}']",
    f"[file:hashes.'SHA-256' = '{SHA256}']",
    f"[file:hashes.'SHA-256' = '{SHA256}' AND file:name = 'a.exe']",
    "[ipv4-addr:value = '198.51.100.1'] AND [domain-name:value = 'example.com']",
    "[ipv4-addr:value = '198.51.100.1'] OR [ipv4-addr:value = '198.51.100.2']",
    "[file:name != 'x']",
    "[file:name == 'x']",
    "[file:name <> 'x']",
    "[file:name = 'it\\'s']",
    "[file:name = 'back\\\\slash']",
    "[file:name = 'ünïcødé ✓ 🐍']",
    "[x-custom-object:x_prop = 'v']",
    "[email-message:from_ref.value = 'a@example.com']",
    "[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\System']",
    "[network-traffic:dst_port = 443]",
    "[file:size > 1000]",
    "[file:name LIKE 'evil%']",
    "[file:name MATCHES '^evil.*$']",
    "[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
    "[network-traffic:protocols[*] = 'tcp']",
    "[ipv4-addr:value IN ('198.51.100.1', '198.51.100.2')]",
    "[file:name = 'a'] FOLLOWEDBY [file:name = 'b'] WITHIN 300 SECONDS",
    "[file:name = 'a'] REPEATS 5 TIMES",
    "[file:name = 'a'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
    "([file:name = 'a'] AND [file:name = 'b']) WITHIN 10 SECONDS",
    "[file:name NOT = 'a']",
    "[file:x.'hashes' = 'anything']",
    "  \n[ipv4-addr:value = '198.51.100.1']\t ",
    "[file:hashes.'SHA-256' = '" + SHA256.upper() + "']",
]

INVALID = [
    "   ",
    "ipv4-addr:value = '198.51.100.1'",
    "[ipv4-addr:value = '198.51.100.1'",
    "[ipv4-addr:value = 198.51.100.1]",
    "[ipv4-addr:value = '198.51.100.1]",
    "[ipv4-addr:value = \"198.51.100.1\"]",
    "[ipv4-addr:value = 'a\\b']",
    "[ipv4-addr value = '198.51.100.1']",
    "[ipv4-addr:value = '198.51.100.1' AND]",
    "[ipv4-addr:value = '198.51.100.1'] AND",
    "[ipv4-addr:value = '198.51.100.1'] and [ipv4-addr:value = '198.51.100.2']",
    "[file:hashes.MD5 = 'not-a-hash']",
    f"[file:hashes.MD5 = '{MD5}0']",
    "[file:hashes.'SHA-256' = 'abc']",
    "[file:hashes.sha256 = 'abc']",
    f"[file:hashes.'SHA-256' = '{SHA256}' AND file:hashes.MD5 = 'abc']",
    "[file:AND = 'x']",
    "[file:name.IN = 'x']",
    "[true:name = 'x']",
    "[file:na-me = 'x']",
    "[file:name = 'a'] WITHIN 5 SECONDS WITHIN 6 SECONDS",
    "[]",
    "[NOT file:name = 'a']",
]


@pytest.mark.parametrize("pattern", VALID)
def test_valid_patterns(pattern: str) -> None:
    assert grammar_ok(pattern), pattern  # the example itself is valid by the OASIS grammar
    assert validate_pattern(pattern) == []


@pytest.mark.parametrize("pattern", INVALID)
def test_invalid_patterns(pattern: str) -> None:
    assert not grammar_ok(pattern), pattern
    problems = validate_pattern(pattern)
    assert problems
    assert all(isinstance(p, str) and p for p in problems)


def test_blank_patterns_are_refused_by_the_indicator_check() -> None:
    for blank in ("", "   ", "\n"):
        with pytest.raises(ObjectError, match="pattern must be a non-empty string"):
            check_object(indicator(pattern=blank))


@pytest.mark.parametrize("blank", ["", " ", "\n\t"])
def test_blank_pattern_reports_a_problem(blank: str) -> None:
    """stix2-patterns itself crashes on '' (UnboundLocalError in brackets_check)."""
    assert validate_pattern(blank) != []


def test_simple_patterns_take_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """A plain comparison with a string never reaches the ANTLR parser."""

    def boom(pattern: str) -> list[str]:
        raise AssertionError(f"grammar called for {pattern!r}")

    monkeypatch.setattr(patterns, "_full_validate", boom)
    assert validate_pattern("[ipv4-addr:value = '198.51.100.7']") == []
    assert validate_pattern(f"[file:hashes.'SHA-256' = '{SHA256}' OR file:hashes.MD5 = '{MD5}']") == []
    assert validate_pattern("[file:hashes.MD5 = 'nope']") == ["FAIL: 'nope' is not a valid MD5 hash"]


def test_keywords_as_identifiers_go_to_the_grammar() -> None:
    for pattern in ("[file:AND = 'x']", "[IN:value = 'x']", "[file:x.true = 'y']"):
        assert validate_pattern(pattern) == run_validator(pattern, stix_version="2.1") != []


def test_hash_failure_reason_names_the_value_and_algorithm() -> None:
    (problem,) = validate_pattern("[file:hashes.MD5 = 'abc']")
    assert "'abc'" in problem and "MD5" in problem


# --- property: the fast path agrees with the grammar -------------------------------------------

_WS = st.sampled_from(["", " ", " ", " ", "  ", "\t", "\n", "\r\n", "\u00a0", "\x0b"])
_WS1 = st.sampled_from([" ", " ", " ", "\t", "\n", "  ", ""])

_TYPE = st.one_of(
    st.sampled_from([
        "ipv4-addr", "ipv6-addr", "file", "domain-name", "url", "network-traffic", "x-custom-thing",
        "windows-registry-key", "x509-certificate", "email-message", "a", "_x", "a-", "x--y", "A-B_c",
        "AND", "IN", "true", "false", "OR", "NOT", "LIKE", "t", "b", "h", "1file", "-file", "fi le", "",
    ]),
    st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_-]{0,12}", fullmatch=True),
)
_IDENT = st.one_of(
    st.sampled_from([
        "value", "name", "hashes", "MD5", "SHA1", "SHA256", "sha256", "SSDEEP", "extensions", "x_prop",
        "AND", "OR", "IN", "true", "false", "NOT", "EXISTS", "LIKE", "WITHIN", "SECONDS", "TIMES",
        "START", "STOP", "LAST", "MATCHES", "t", "b", "h", "_", "a-b", "1a", "",
    ]),
    st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,8}", fullmatch=True),
)
_CHARS = st.one_of(
    st.sampled_from(list("'\\\"ab Z0-:=.[]()\n\t") + ["é", "\u2028", "🐍", "\x00", "ß"]),
    st.characters(exclude_categories=["Cs"]),
)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


@st.composite
def _string_literal(draw: st.DrawFn) -> str:
    text = draw(st.text(_CHARS, max_size=8))
    how = draw(st.sampled_from(["escaped", "escaped", "escaped", "raw"]))
    return "'" + (_escape(text) if how == "escaped" else text) + "'"


@st.composite
def _hash_value(draw: st.DrawFn) -> str:
    n = draw(st.sampled_from([0, 1, 31, 32, 33, 40, 56, 64, 96, 128, 129]))
    body = draw(st.text(st.sampled_from("0123456789abcdefABCDEFgz+/:."), min_size=n, max_size=n))
    tail = draw(st.sampled_from(["", "", "", "\n", " ", "\\'"]))
    return "'" + body + tail + "'"


@st.composite
def _quoted_component(draw: st.DrawFn) -> str:
    text = draw(st.one_of(
        st.sampled_from(["SHA-256", "SHA-1", "MD5", "sha-512", "SHA3-256", "ssdeep", "x y", "hashes",
                         "MD'5", "SHA-'256", "a'b", "a\\b", "", "é"]),
        st.text(_CHARS, max_size=6),
    ))
    return "'" + _escape(text) + "'"


@st.composite
def _path(draw: st.DrawFn) -> str:
    quoted = _quoted_component()
    first = draw(st.one_of(_IDENT, _IDENT, _IDENT, quoted))
    steps = draw(st.lists(
        st.one_of(
            _IDENT.map(lambda s: "." + s),
            quoted.map(lambda s: "." + s),
            st.sampled_from(["[*]", "[0]", "[1]", "[-1]", "[x]", ".", ". x"]),
        ),
        max_size=3,
    ))
    return first + "".join(steps)


@st.composite
def _comparison(draw: st.DrawFn) -> str:
    otype = draw(_TYPE)
    path = draw(_path())
    colon = draw(st.sampled_from([":", ":", ":", ":", " :", ": ", ""]))
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(["EXISTS ", "NOT EXISTS "])) + otype + colon + path
    op = draw(st.sampled_from([
        "=", "=", "=", "=", "!=", "!=", "<>", ">", "<", ">=", "<=", "LIKE", "MATCHES", "NOT =",
        "NOT !=", "IN", "NOT IN", "ISSUBSET", "ISSUPERSET", "==", "=!", "! =", "not =",
    ]))
    value = draw(st.one_of(
        _string_literal(), _string_literal(), _hash_value(),
        st.sampled_from([
            "1", "-2", "1.5", "true", "false", "t'2020-01-01T00:00:00Z'", "t'bad'", "h'0a'", "b'YQ=='",
            "('a', 'b')", "('a')", "()", "''", "'", "x", "'a''b'",
        ]),
    ))
    return f"{otype}{colon}{path}{draw(_WS)}{op}{draw(_WS)}{value}"


@st.composite
def _observation(draw: st.DrawFn) -> str:
    comps = draw(st.lists(_comparison(), min_size=1, max_size=3))
    out = comps[0]
    for comp in comps[1:]:
        join = draw(st.sampled_from(["AND", "OR", "AND", "OR", "FOLLOWEDBY", "and"]))
        out += f"{draw(_WS1)}{join}{draw(_WS1)}{comp}"
    if draw(st.integers(0, 9)) == 0:
        out = f"({out})"
    obs = f"[{draw(_WS)}{out}{draw(_WS)}]"
    qualifier = draw(st.sampled_from([
        "", "", "", "", " WITHIN 300 SECONDS", " REPEATS 2 TIMES", " WITHIN 5 SECONDS WITHIN 6 SECONDS",
        " START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'", " WITHIN -1 SECONDS", " WITHIN",
    ]))
    return obs + qualifier


@st.composite
def stix_patterns(draw: st.DrawFn) -> str:
    """Patterns built from (a loose reading of) the STIX 2.1 patterning grammar, with some junk."""
    observations = draw(st.lists(_observation(), min_size=1, max_size=3))
    out = observations[0]
    for obs in observations[1:]:
        join = draw(st.sampled_from(["AND", "OR", "FOLLOWEDBY", "AND", "OR", "or"]))
        out += f"{draw(_WS1)}{join}{draw(_WS1)}{obs}"
    if draw(st.integers(0, 7)) == 0:
        out = f"({out})"
    out = draw(_WS) + out + draw(_WS)
    junk = draw(st.integers(0, 5))
    if junk == 0 and out:  # insert a stray character
        at = draw(st.integers(0, len(out)))
        out = out[:at] + draw(st.sampled_from(list("[]():'\\\"=! .-x") + ["AND", "é"])) + out[at:]
    elif junk == 1 and out:  # drop one character
        at = draw(st.integers(0, len(out) - 1))
        out = out[:at] + out[at + 1:]
    return out


@st.composite
def simple_patterns(draw: st.DrawFn) -> str:
    """Patterns of the shape the fast path recognises (string equality, AND/OR), valid or not."""
    def comparison() -> str:
        otype = draw(_TYPE.filter(lambda s: s != "" and not s[0].isdigit() and s[0] != "-" and " " not in s))
        first = draw(_IDENT.filter(lambda s: s.isidentifier() and s.isascii()))
        steps = draw(st.lists(st.one_of(
            _IDENT.filter(lambda s: s.isidentifier() and s.isascii()),
            _quoted_component(),
        ), max_size=2))
        op = draw(st.sampled_from(["=", "!=", " = ", " != ", "\t=\n"]))
        value = draw(st.one_of(_string_literal(), _hash_value()))
        return f"{otype}:{'.'.join([first, *steps])}{op}{value}"

    def observation() -> str:
        out = comparison()
        for _ in range(draw(st.integers(0, 2))):
            out += f" {draw(st.sampled_from(['AND', 'OR']))} {comparison()}"
        return f"[{out}]"

    out = observation()
    for _ in range(draw(st.integers(0, 2))):
        out += f" {draw(st.sampled_from(['AND', 'OR']))} {observation()}"
    return out


@_PROPERTY_SETTINGS
@given(stix_patterns())
@example("[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e\n']")
@example("[ipv4-addr:value = 'a\u2028b']")
@example("[file:hashes.'SHA-256' = 'abc']")
@example("[a-:b = 'x']")
@example("([(EXISTS ipv4-addr:value AND EXISTS ipv4-addr:value[-1])])")
# Found by this test (fixed in nordcert/intel/patterns.py): quoted path components were compared
# without unescaping, so the fast path accepted these two patterns, which the grammar refuses.
@example("[file:x.'hashes'.MD5 = 'abc']")
@example("[file:hashes.'MD\\'5' = 'abc']")
def test_fast_path_agrees_with_grammar(pattern: str) -> None:
    agree(pattern)


@hsettings(_PROPERTY_SETTINGS, max_examples=200)
@given(simple_patterns())
def test_fast_path_agrees_with_grammar_on_simple_shapes(pattern: str) -> None:
    agree(pattern)


@pytest.mark.parametrize("pattern", [
    "[file:x.'hashes'.MD5 = 'abc']",
    "[file:hashes.'MD\\'5' = 'abc']",
    "[file:'hashes'.MD5 = 'abc']",
])
def test_quoted_path_components_are_unescaped_like_the_grammar(pattern: str) -> None:
    assert not grammar_ok(pattern)
    assert validate_pattern(pattern) != []


@pytest.mark.parametrize("pattern", [
    "[network-traffic:protocols[-1] = 'tcp']",
    "[file:name[-1] = 'a']",
])
def test_pattern_that_crashes_the_grammar_is_reported_as_a_problem(pattern: str) -> None:
    with pytest.raises(AttributeError):  # stix2-patterns' inspector fails on a negative index
        run_validator(pattern, stix_version="2.1")
    problems = validate_pattern(pattern)
    assert problems and all(isinstance(p, str) for p in problems)


# --- property: the one-comparison path reads what the grammar reads ------------------------------

_ONE_TYPE = st.one_of(st.sampled_from(["ipv4-addr", "file", "url", "a-", "x--y", "true", "in", "t"]),
                      st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True))
_ONE_IDENT = st.one_of(st.sampled_from(["value", "hashes", "name", "true", "false", "_", "x_prop"]),
                       st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True))
_ONE_QUOTED = st.one_of(st.sampled_from(["'SHA-256'", "'MD5'", "'sha-1'", "'x_y'"]),
                        st.from_regex(r"'[A-Za-z0-9_-]{1,8}'", fullmatch=True))


@st.composite
def one_comparison_patterns(draw: st.DrawFn) -> str:
    path = draw(_ONE_IDENT) + "".join(draw(st.lists(st.one_of(_ONE_IDENT, _ONE_QUOTED).map(lambda s: "." + s),
                                                    max_size=2)))
    value = draw(st.one_of(st.text(st.characters(exclude_categories=["Cs"], exclude_characters="'\\"), max_size=12),
                           _hash_value().map(lambda s: s.strip("'"))))
    return f"[{draw(_ONE_TYPE)}:{path} = '{value}']"


@hsettings(_PROPERTY_SETTINGS, max_examples=300)
@given(one_comparison_patterns())
@example("[file:hashes.'SHA-256' = 'abc']")
@example("[file:x.'hashes'.MD5 = 'abc']")
def test_one_comparison_path_agrees_with_grammar(pattern: str) -> None:
    agree(pattern)
    if validate_pattern(pattern) == []:
        assert comparisons(pattern) == list(patterns._parsed_comparisons(pattern)), pattern
