"""The access token: fetched with the merchant credentials, cached, refreshed, shared."""

from __future__ import annotations

import asyncio

import pytest

from pivot_client import (
    APIResponseValidationError,
    AuthenticationError,
    PaymentMethodConfigs,
    PivotClient,
)
from tests.pivot_client import load_fixture
from tests.pivot_client.fakes import (
    CLIENT_ID,
    CLIENT_SECRET,
    TOKEN_PATH,
    FakePivot,
    body_of,
    error,
    ok,
    token_answer,
)
from tests.standins import FakeClock, wait_for

CONFIGS = "/v2/payment-method-configs"


@pytest.fixture(autouse=True)
def configs_route(fake: FakePivot) -> None:
    fake.default("GET", CONFIGS, ok(load_fixture("payment_method_configs.json")["data"]))


def bearer(fake: FakePivot) -> list[str | None]:
    return [r.headers.get("Authorization") for r in fake.api_requests]


async def test_token_is_fetched_with_the_merchant_headers_and_used_as_bearer(
    client: PivotClient, fake: FakePivot
) -> None:
    configs = await client.payment_method_configs()

    assert isinstance(configs, PaymentMethodConfigs)
    [token_request] = fake.token_requests
    assert token_request.headers["X-MERCHANT-ID"] == CLIENT_ID
    assert token_request.headers["X-MERCHANT-SECRET"] == CLIENT_SECRET
    assert "Authorization" not in token_request.headers
    assert body_of(token_request) == {"grantType": "client_credentials"}
    [call] = fake.api_requests
    assert call.headers["Authorization"] == "Bearer token-1"
    # The merchant secret goes to the token route only.
    assert "X-MERCHANT-SECRET" not in call.headers
    assert "X-MERCHANT-ID" not in call.headers


async def test_token_is_cached_between_calls(client: PivotClient, fake: FakePivot) -> None:
    for _ in range(3):
        await client.payment_method_configs()

    assert len(fake.token_requests) == 1
    assert bearer(fake) == ["Bearer token-1"] * 3


async def test_token_is_refreshed_sixty_seconds_before_it_expires(
    client: PivotClient, fake: FakePivot, clock: FakeClock
) -> None:
    await client.payment_method_configs()  # expiresIn "900": refresh due at +840 s

    clock.advance(839.9)
    await client.payment_method_configs()
    assert len(fake.token_requests) == 1

    clock.advance(0.1)
    await client.payment_method_configs()
    assert len(fake.token_requests) == 2
    assert bearer(fake) == ["Bearer token-1", "Bearer token-1", "Bearer token-2"]


async def test_a_short_lived_token_is_refreshed_at_half_its_life(
    client: PivotClient, fake: FakePivot, clock: FakeClock
) -> None:
    fake.expires_in = "40"  # a margin of 60 s would make it stale at once; half is 20 s
    await client.payment_method_configs()

    clock.advance(19.9)
    await client.payment_method_configs()
    clock.advance(0.1)
    await client.payment_method_configs()

    assert len(fake.token_requests) == 2


async def test_concurrent_calls_share_one_token_request(
    client: PivotClient, fake: FakePivot
) -> None:
    fake.token_gate = asyncio.Event()
    calls = [asyncio.create_task(client.payment_method_configs()) for _ in range(20)]
    await wait_for(lambda: len(fake.token_requests) == 1, what="the first token request")
    # Give every other call the chance to ask for a token too, while the first one is held.
    for _ in range(10):
        await asyncio.sleep(0)
    fake.token_gate.set()

    await asyncio.gather(*calls)

    assert len(fake.token_requests) == 1
    assert bearer(fake) == ["Bearer token-1"] * 20


async def test_with_options_copies_share_the_token(client: PivotClient, fake: FakePivot) -> None:
    await client.payment_method_configs()
    await client.with_options(max_retries=0).payment_method_configs()

    assert len(fake.token_requests) == 1


async def test_credentials_invalid_refreshes_the_token_once_and_retries(
    client: PivotClient, fake: FakePivot
) -> None:
    fake.script("GET", CONFIGS, error(401, "credentials_invalid", "Access token is invalid"))

    await client.payment_method_configs()

    assert len(fake.token_requests) == 2
    assert bearer(fake) == ["Bearer token-1", "Bearer token-2"]


async def test_a_second_credentials_invalid_is_raised(
    client: PivotClient, fake: FakePivot
) -> None:
    refused = error(401, "credentials_invalid", "Access token is invalid", trace_id="t1")
    fake.script("GET", CONFIGS, refused, refused)

    with pytest.raises(AuthenticationError) as caught:
        await client.payment_method_configs()

    assert caught.value.code == "credentials_invalid"
    assert caught.value.trace_id == "t1"
    assert len(fake.token_requests) == 2
    assert len(fake.api_requests) == 2


async def test_another_401_does_not_refresh(client: PivotClient, fake: FakePivot) -> None:
    fake.script("GET", CONFIGS, error(401, "forbidden_access", "Not allowed"))

    with pytest.raises(AuthenticationError):
        await client.payment_method_configs()

    assert len(fake.token_requests) == 1
    assert len(fake.api_requests) == 1


async def test_refused_credentials_are_not_retried(client: PivotClient, fake: FakePivot) -> None:
    fake.script(
        "POST", TOKEN_PATH, error(401, "credentials_invalid", "Client ID or Secret is invalid")
    )

    with pytest.raises(AuthenticationError) as caught:
        await client.payment_method_configs()

    assert caught.value.path == TOKEN_PATH
    assert len(fake.token_requests) == 1
    assert fake.api_requests == []


async def test_authenticate_fetches_the_token_the_next_call_uses(
    client: PivotClient, fake: FakePivot
) -> None:
    await client.authenticate()
    await client.authenticate()
    await client.payment_method_configs()

    assert len(fake.token_requests) == 1
    assert bearer(fake) == ["Bearer token-1"]


async def test_authenticate_raises_when_the_credentials_are_refused(
    client: PivotClient, fake: FakePivot
) -> None:
    fake.script(
        "POST", TOKEN_PATH, error(401, "credentials_invalid", "Client ID or Secret is invalid")
    )

    with pytest.raises(AuthenticationError):
        await client.authenticate()

    assert len(fake.token_requests) == 1


async def test_an_unreadable_token_answer_is_a_validation_error_without_the_token(
    client: PivotClient, fake: FakePivot
) -> None:
    fake.script("POST", TOKEN_PATH, token_answer("leaky-token-value", expires_in="soon"))

    with pytest.raises(APIResponseValidationError) as caught:
        await client.payment_method_configs()

    assert "expiresIn" in str(caught.value)
    assert "leaky-token-value" not in str(caught.value)
    assert "leaky-token-value" not in repr(caught.value)
    assert fake.api_requests == []


@pytest.mark.parametrize(
    ("client_id", "client_secret", "max_retries"),
    [("", "secret", 2), ("id", "", 2), ("id", "secret", -1)],
)
def test_construction_refuses_empty_credentials_and_negative_retries(
    client_id: str, client_secret: str, max_retries: int
) -> None:
    with pytest.raises(ValueError, match="must not be"):
        PivotClient(client_id=client_id, client_secret=client_secret, max_retries=max_retries)
