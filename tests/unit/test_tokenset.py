"""TokenSet: catalogue 34 (malformed bodies), 37 (kept refresh token), 42 (expiry maths)."""

from __future__ import annotations

import contextlib
import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kit_desktop.auth.tokenset import (
    CREATED_AT_SKEW,
    EXPIRY_MARGIN,
    MAX_LIFETIME,
    TokenSet,
)
from kit_desktop.errors import CorruptEntryError, MalformedResponseError, StorageError

NOW = 1_750_000_000.0
ACCESS = "access-7f3Kq9ZpXw2LmN4vB8sT1yR6"
REFRESH = "refresh-Hc5Jd0Gf3Ue8Wa1Qo7Pi2Yt"
PREVIOUS_REFRESH = "refresh-previous-Zx9Cv8Bn7Mm6"


def good_body(**changes: Any) -> dict[str, Any]:
    """A valid Kit token response with ``changes`` applied (a value of ... drops the key)."""
    body: dict[str, Any] = {
        "access_token": ACCESS,
        "token_type": "Bearer",
        "expires_in": 7200,
        "refresh_token": REFRESH,
        "scope": "public",
        "created_at": int(NOW),
    }
    for key, value in changes.items():
        if value is ...:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def parse(body: object, received_at: float = NOW, previous: str | None = None) -> TokenSet:
    return TokenSet.from_response(body, received_at=received_at, previous_refresh_token=previous)


# --- 34: malformed success bodies ---------------------------------------------------------


def test_c34_valid_body_parses() -> None:
    tokens = parse(good_body())
    assert tokens.access_token == ACCESS
    assert tokens.refresh_token == REFRESH
    assert tokens.token_type == "Bearer"
    assert tokens.scope == "public"
    assert tokens.received_at == NOW
    assert tokens.expires_at == NOW + 7200


def test_c34_html_from_a_proxy_is_not_a_token_response() -> None:
    page = "<html><body><h1>Proxy error</h1></body></html>"
    with pytest.raises(MalformedResponseError):
        parse(page)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param([], id="empty-array"),
        pytest.param([good_body()], id="array-of-a-good-body"),
        pytest.param(None, id="null"),
        pytest.param("token", id="string"),
        pytest.param(3600, id="number"),
    ],
)
def test_c34_non_object_bodies_are_refused(body: object) -> None:
    with pytest.raises(MalformedResponseError):
        parse(body)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="empty-object"),
        pytest.param(good_body(access_token=...), id="access-token-missing"),
        pytest.param(good_body(access_token=""), id="access-token-empty"),
        pytest.param(good_body(access_token=None), id="access-token-null"),
        pytest.param(good_body(access_token=12345), id="access-token-number"),
        pytest.param(good_body(access_token=["a"]), id="access-token-list"),
        pytest.param(good_body(access_token={"a": 1}), id="access-token-object"),
        pytest.param(good_body(access_token=True), id="access-token-bool"),
        pytest.param(good_body(access_token="two words"), id="access-token-space"),
        pytest.param(good_body(access_token="line\r\nX-Evil: 1"), id="access-token-crlf"),
        pytest.param(good_body(access_token="x" * 5000), id="access-token-huge"),
        pytest.param(good_body(refresh_token=""), id="refresh-token-empty"),
        pytest.param(good_body(refresh_token=7), id="refresh-token-number"),
        pytest.param(good_body(scope=["public"]), id="scope-list"),
    ],
)
def test_c34_bad_tokens_are_refused(body: dict[str, Any]) -> None:
    with pytest.raises(MalformedResponseError):
        parse(body)


@pytest.mark.parametrize("token_type", ["mac", "MAC", "Basic", "", "bearer ", 1, None, True])
def test_c34_token_type_other_than_bearer_is_refused(token_type: object) -> None:
    with pytest.raises(MalformedResponseError):
        parse(good_body(token_type=token_type))


@pytest.mark.parametrize("token_type", ["Bearer", "bearer", "BEARER"])
def test_c34_bearer_in_any_case_is_accepted(token_type: str) -> None:
    assert parse(good_body(token_type=token_type)).token_type == "Bearer"


@pytest.mark.parametrize(
    "expires_in",
    [
        pytest.param("3600", id="string-number"),
        pytest.param(-5, id="negative"),
        pytest.param(0, id="zero"),
        pytest.param(1e12, id="float-1e12"),
        pytest.param(3600.5, id="fraction"),
        pytest.param("abc", id="text"),
        pytest.param(True, id="bool-true"),
        pytest.param(False, id="bool-false"),
        pytest.param([3600], id="list"),
        pytest.param(float("inf"), id="infinity"),
        pytest.param(float("nan"), id="nan"),
    ],
)
def test_c34_bad_expires_in_is_refused(expires_in: object) -> None:
    with pytest.raises(MalformedResponseError):
        parse(good_body(expires_in=expires_in))


def test_c34_json_1e12_from_the_wire_is_refused() -> None:
    body = json.loads(json.dumps(good_body()).replace('"expires_in": 7200', '"expires_in": 1e12'))
    assert body["expires_in"] == 1e12
    with pytest.raises(MalformedResponseError):
        parse(body)


def test_c34_huge_whole_expires_in_is_clamped_to_seven_days() -> None:
    tokens = parse(good_body(expires_in=10**12, created_at=...))
    assert tokens.expires_at == NOW + MAX_LIFETIME
    tokens = parse(good_body(expires_in=10**400, created_at=...))
    assert tokens.expires_at == NOW + MAX_LIFETIME


@pytest.mark.parametrize("expires_in", [None, ...], ids=["null", "missing"])
def test_c34_null_or_missing_expires_in_means_unknown_expiry(expires_in: object) -> None:
    tokens = parse(good_body(expires_in=expires_in))
    assert tokens.expires_at is None
    assert tokens.seconds_left(NOW + 10**9) is None
    assert not tokens.needs_refresh(NOW + 10**9)


@pytest.mark.parametrize("missing", ["token_type", "scope"])
def test_c34_missing_token_type_or_scope_is_tolerated(missing: str) -> None:
    tokens = parse(good_body(**{missing: ...}))
    assert tokens.access_token == ACCESS
    assert tokens.token_type == "Bearer"
    if missing == "scope":
        assert tokens.scope is None


def test_c34_null_scope_is_tolerated() -> None:
    assert parse(good_body(scope=None)).scope is None


def test_c34_unknown_fields_are_ignored() -> None:
    body = good_body(
        id_token="not-used",
        account={"id": 1, "name": "x"},
        token_type_hint=["x"],
        ext_expires_in="whatever",
    )
    tokens = parse(body)
    assert tokens == parse(good_body())


# --- 37: a response without a refresh token keeps the previous one ------------------------


def test_c37_missing_refresh_token_keeps_the_previous_one() -> None:
    tokens = parse(good_body(refresh_token=...), previous=PREVIOUS_REFRESH)
    assert tokens.refresh_token == PREVIOUS_REFRESH


def test_c37_null_refresh_token_keeps_the_previous_one() -> None:
    tokens = parse(good_body(refresh_token=None), previous=PREVIOUS_REFRESH)
    assert tokens.refresh_token == PREVIOUS_REFRESH


def test_c37_new_refresh_token_replaces_the_previous_one() -> None:
    assert parse(good_body(), previous=PREVIOUS_REFRESH).refresh_token == REFRESH


def test_c37_missing_refresh_token_without_a_previous_one_is_none() -> None:
    assert parse(good_body(refresh_token=...)).refresh_token is None


def test_with_refresh_token_returns_a_copy() -> None:
    tokens = parse(good_body())
    other = tokens.with_refresh_token(PREVIOUS_REFRESH)
    assert other.refresh_token == PREVIOUS_REFRESH
    assert tokens.refresh_token == REFRESH
    assert other.access_token == tokens.access_token


# --- 42: expiry maths and clock skew --------------------------------------------------------


def test_c42_expiry_counts_from_local_receipt_time_without_created_at() -> None:
    assert parse(good_body(created_at=...)).expires_at == NOW + 7200


def test_c42_created_at_later_than_receipt_within_skew_uses_receipt_time() -> None:
    tokens = parse(good_body(created_at=int(NOW) + 100))
    assert tokens.expires_at == NOW + 7200


def test_c42_created_at_earlier_within_skew_wins() -> None:
    tokens = parse(good_body(created_at=int(NOW) - 120))
    assert tokens.expires_at == NOW - 120 + 7200


def test_c42_created_at_exactly_at_the_skew_limit_still_counts() -> None:
    tokens = parse(good_body(created_at=int(NOW) - CREATED_AT_SKEW))
    assert tokens.expires_at == NOW - CREATED_AT_SKEW + 7200


@pytest.mark.parametrize(
    "created_at",
    [
        pytest.param(int(NOW) - CREATED_AT_SKEW - 1, id="just-past-skew"),
        pytest.param(int(NOW) - 86_400, id="a-day-behind"),
        pytest.param(int(NOW) + 86_400, id="a-day-ahead"),
        pytest.param(0, id="epoch"),
        pytest.param(10**400, id="huge-int"),
        pytest.param(-(10**400), id="huge-negative-int"),
        pytest.param("1750000000", id="text"),
        pytest.param(True, id="bool"),
        pytest.param(None, id="null"),
        pytest.param(float("nan"), id="nan"),
    ],
)
def test_c42_created_at_far_off_or_odd_is_ignored(created_at: object) -> None:
    assert parse(good_body(created_at=created_at)).expires_at == NOW + 7200


def test_c42_never_relies_on_created_at_alone() -> None:
    """A server clock a day ahead cannot stretch the token's life past local receipt."""
    tokens = parse(good_body(created_at=int(NOW) + 86_400))
    assert tokens.expires_at == NOW + 7200


def test_c42_token_counts_as_expired_sixty_seconds_early() -> None:
    assert EXPIRY_MARGIN == 60
    tokens = parse(good_body(created_at=...))
    assert tokens.expires_at is not None
    assert not tokens.needs_refresh(tokens.expires_at - 61)
    assert tokens.needs_refresh(tokens.expires_at - 60)
    assert tokens.needs_refresh(tokens.expires_at)
    assert tokens.needs_refresh(tokens.expires_at + 1)
    assert tokens.needs_refresh(tokens.expires_at - 10, margin=30)
    assert not tokens.needs_refresh(tokens.expires_at - 31, margin=30)


def test_c42_seconds_left() -> None:
    tokens = parse(good_body(created_at=...))
    assert tokens.seconds_left(NOW) == 7200
    assert tokens.seconds_left(NOW + 7300) == -100


def test_c42_clock_jump_forward_a_day_needs_refresh() -> None:
    tokens = parse(good_body())
    assert not tokens.needs_refresh(NOW)
    assert tokens.needs_refresh(NOW + 86_400)


def test_c42_clock_jump_back_keeps_the_expiry_fixed() -> None:
    """Going back in time does not extend the token: expires_at is absolute."""
    tokens = parse(good_body())
    assert tokens.expires_at == NOW + 7200
    assert not tokens.needs_refresh(NOW - 86_400)
    assert tokens.seconds_left(NOW - 86_400) == 86_400 + 7200
    # Back to the real time after a day's jump: expired again, so refreshed.
    assert tokens.needs_refresh(NOW + 7200)


def test_c42_short_lifetime_needs_refresh_at_once() -> None:
    tokens = parse(good_body(expires_in=30))
    assert tokens.needs_refresh(NOW)


# --- payload round-trip -------------------------------------------------------------------


@pytest.mark.parametrize(
    "tokens",
    [
        pytest.param(parse(good_body()), id="full"),
        pytest.param(parse(good_body(refresh_token=..., scope=...)), id="no-refresh-no-scope"),
        pytest.param(parse(good_body(expires_in=None)), id="unknown-expiry"),
        pytest.param(parse(good_body(), received_at=NOW + 0.25), id="fractional-time"),
    ],
)
def test_payload_round_trip(tokens: TokenSet) -> None:
    payload = tokens.to_payload()
    again = TokenSet.from_payload(json.loads(json.dumps(payload, allow_nan=False)))
    assert again == tokens


def test_payload_is_plain_json() -> None:
    payload = parse(good_body()).to_payload()
    assert json.loads(json.dumps(payload, allow_nan=False)) == payload
    assert payload["v"] == 1


def _payload(**changes: Any) -> dict[str, Any]:
    payload = parse(good_body()).to_payload()
    for key, value in changes.items():
        if value is ...:
            payload.pop(key, None)
        else:
            payload[key] = value
    return payload


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({}, id="empty"),
        pytest.param(_payload(v=...), id="no-version"),
        pytest.param(_payload(v=2), id="newer-version"),
        pytest.param(_payload(v="1"), id="text-version"),
        pytest.param(_payload(v=True), id="bool-version"),
        pytest.param(_payload(access_token=...), id="no-access-token"),
        pytest.param(_payload(access_token=""), id="empty-access-token"),
        pytest.param(_payload(access_token=5), id="number-access-token"),
        pytest.param(_payload(refresh_token=""), id="empty-refresh-token"),
        pytest.param(_payload(refresh_token=["x"]), id="list-refresh-token"),
        pytest.param(_payload(received_at=...), id="no-received-at"),
        pytest.param(_payload(received_at="now"), id="text-received-at"),
        pytest.param(_payload(received_at=None), id="null-received-at"),
        pytest.param(_payload(received_at=True), id="bool-received-at"),
        pytest.param(_payload(received_at=10**400), id="huge-received-at"),
        pytest.param(_payload(received_at=float("nan")), id="nan-received-at"),
        pytest.param(_payload(expires_at="soon"), id="text-expires-at"),
        pytest.param(_payload(expires_at=float("nan")), id="nan-expires-at"),
        pytest.param(_payload(expires_at=float("inf")), id="inf-expires-at"),
        pytest.param(_payload(expires_at=10**400), id="huge-expires-at"),
        pytest.param(_payload(scope=3), id="number-scope"),
    ],
)
def test_from_payload_refuses_bad_entries(payload: dict[str, Any]) -> None:
    with pytest.raises(CorruptEntryError) as caught:
        TokenSet.from_payload(payload)
    assert isinstance(caught.value, StorageError)
    assert ACCESS not in str(caught.value)
    assert REFRESH not in str(caught.value)


@pytest.mark.parametrize("payload", [[], "text", None, 5], ids=["list", "str", "none", "int"])
def test_from_payload_refuses_non_mappings(payload: Any) -> None:
    with pytest.raises(CorruptEntryError):
        TokenSet.from_payload(payload)


# --- no secret in repr or str ---------------------------------------------------------------


def test_repr_and_str_never_show_either_token() -> None:
    tokens = parse(good_body())
    for text in (repr(tokens), str(tokens), f"{tokens}", f"{tokens!r}", repr([tokens])):
        assert ACCESS not in text
        assert REFRESH not in text
        assert "[redacted]" in text


def test_repr_without_refresh_token() -> None:
    text = repr(parse(good_body(refresh_token=...)))
    assert ACCESS not in text
    assert "refresh_token=None" in text


def test_repr_of_a_kept_previous_refresh_token_is_redacted() -> None:
    text = repr(parse(good_body(refresh_token=...), previous=PREVIOUS_REFRESH))
    assert PREVIOUS_REFRESH not in text


def test_parse_errors_never_echo_the_tokens() -> None:
    with pytest.raises(MalformedResponseError) as caught:
        parse(good_body(token_type="mac"))
    assert ACCESS not in str(caught.value)
    assert REFRESH not in str(caught.value)


# --- property: nothing but MalformedResponseError escapes ---------------------------------

_json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
)
_json_values = st.recursive(
    _json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
_field_names = st.sampled_from(
    [
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
        "scope",
        "created_at",
        "error",
    ]
)
_payload_names = st.sampled_from(
    ["v", "access_token", "refresh_token", "scope", "received_at", "expires_at"]
)
_token_like = st.from_regex(r"[A-Za-z0-9\-._~+/]{1,60}", fullmatch=True)
_odd_numbers = st.sampled_from([10**400, -(10**400), 2**63, 10**12, 1e12, math.inf, math.nan])
_field_values = (
    _json_values
    | _odd_numbers
    | _token_like
    | st.sampled_from(["Bearer", "bearer", "mac", "", "3600", "abc"])
    | st.integers(min_value=-10, max_value=10**9)
)


@st.composite
def _token_bodies(draw: st.DrawFn) -> dict[str, Any]:
    """A valid body with a few fields replaced or removed, or a wholly arbitrary object."""
    if draw(st.booleans()):
        return draw(st.dictionaries(_field_names | st.text(max_size=10), _field_values, max_size=8))
    body = good_body()
    for name in draw(st.sets(_field_names, max_size=2)):
        body.pop(name, None)
    body.update(draw(st.dictionaries(_field_names, _field_values, max_size=3)))
    return body


@settings(max_examples=150, deadline=None)
@given(
    body=_token_bodies(),
    received_at=st.floats(min_value=0, max_value=4e9),
    previous=st.none() | _token_like,
)
def test_from_response_only_ever_raises_malformed(
    body: dict[str, Any], received_at: float, previous: str | None
) -> None:
    try:
        tokens = TokenSet.from_response(
            body, received_at=received_at, previous_refresh_token=previous
        )
    except MalformedResponseError:
        return
    assert tokens.access_token == body["access_token"]
    assert tokens.token_type == "Bearer"
    assert tokens.received_at == received_at
    if tokens.expires_at is not None:
        assert math.isfinite(tokens.expires_at)
        assert tokens.expires_at <= received_at + MAX_LIFETIME
    assert TokenSet.from_payload(json.loads(json.dumps(tokens.to_payload()))) == tokens


@settings(max_examples=80, deadline=None)
@given(
    payload=st.builds(
        lambda changes: {**parse(good_body()).to_payload(), **changes},
        st.dictionaries(_payload_names, _field_values | _odd_numbers, max_size=3),
    )
    | st.dictionaries(st.text(max_size=12), _json_values, max_size=8)
    | _json_values
)
def test_from_payload_only_ever_raises_corrupt_entry(payload: Any) -> None:
    with contextlib.suppress(CorruptEntryError):
        TokenSet.from_payload(payload)
