"""``PivotClient``: Pivot's payments API over httpx, with tokens, retries and typed results."""

from __future__ import annotations

import asyncio
import copy
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Generic, Self, TypeVar
from urllib.parse import quote

import httpx
from pydantic import SecretStr, TypeAdapter, ValidationError

from ._constants import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    INITIAL_RETRY_DELAY,
    MAX_PAGE_SIZE,
    MAX_RETRY_AFTER,
    MAX_RETRY_DELAY,
    SUCCESS_CODE,
    TOKEN_REFRESH_MARGIN,
    USER_AGENT,
)
from ._exceptions import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    QRISAmountNotAllowedError,
    status_error,
    trace_id_of,
)
from ._idempotency import request_id_for
from ._json import load_json
from ._logs import logger
from ._models import (
    AccessToken,
    Charge,
    CreatePaymentRequest,
    Customer,
    Envelope,
    Money,
    OrderInformation,
    PaymentMethodChoice,
    PaymentMethodConfigs,
    PaymentMethodOptions,
    PaymentSession,
    ProductDetail,
    RedirectUrl,
    StaticPaymentMethod,
    VirtualAccountOptions,
    summarize_validation_error,
)

__all__ = ["Page", "PivotClient", "retry_after_seconds"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list, as Pivot answered it (``number`` counts from 1)."""

    items: list[T]
    number: int
    total_pages: int

    @property
    def last(self) -> bool:
        """Whether no page follows: this one is empty, or the list has no more pages."""
        return not self.items or self.number >= self.total_pages


_SESSION = TypeAdapter(PaymentSession)
_SESSIONS = TypeAdapter(list[PaymentSession])
_CHARGES = TypeAdapter(list[Charge])
_CONFIGS = TypeAdapter(PaymentMethodConfigs)
_TOKEN = TypeAdapter(AccessToken)
_ENVELOPE = TypeAdapter(Envelope)

_PAYMENTS = "/v2/payments"
_CHARGES_PATH = "/v2/charges"
# Pivot requires a product price even when the session has no amount (open VA, QRIS) and
# does not check it against payments; this value is positive and inside both VA (from 10,000)
# and QRIS (1,000-9,999,999) limits.
_NOMINAL_PRICE = 10_000


def _retryable(status_code: int) -> bool:
    return status_code in (408, 429) or status_code >= 500


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (seconds or HTTP date), if 0 < it <= 60."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - now
        except (TypeError, ValueError):
            return None
    return seconds if 0 < seconds <= MAX_RETRY_AFTER else None


def _json_or_none(response: httpx.Response) -> object:
    try:
        return load_json(response.content)
    except ValueError:  # also covers a body that is not UTF-8, or nested too deep
        return None


class _TokenCache:
    """One access token, shared by a client and its ``with_options`` copies."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self._token: SecretStr | None = None
        self._refresh_at = 0.0

    def get(self, now: float) -> str | None:
        """The token while it is fresh enough to use, else None."""
        if self._token is None or now >= self._refresh_at:
            return None
        return self._token.get_secret_value()

    def store(self, token: AccessToken, requested_at: float) -> str:
        """Keep ``token`` until shortly before it expires (counted from when we asked)."""
        margin = min(TOKEN_REFRESH_MARGIN, token.expires_in / 2)
        self._token = token.access_token
        self._refresh_at = requested_at + token.expires_in - margin
        return token.access_token.get_secret_value()

    def discard(self, value: str) -> None:
        """Forget ``value``, unless a newer token already replaced it."""
        if self._token is not None and self._token.get_secret_value() == value:
            self._token = None


class PivotClient:
    """An async client for Pivot's payments API (static VA and QRIS).

    It fetches and caches the access token, retries connection errors, timeouts, 408, 429 and
    5xx with backoff, sends a deterministic ``X-REQUEST-ID`` when creating a session, and
    returns pydantic models. Use it as an async context manager, or call ``close()``.

    Args:
        client_id: Pivot Client ID (``X-MERCHANT-ID``).
        client_secret: Pivot Client Secret (``X-MERCHANT-SECRET``); never logged or shown.
        base_url: API root; the sandbox by default.
        timeout: Per-request timeout, in seconds or as an ``httpx.Timeout``.
        max_retries: Retries after the first attempt of a call.
        http_client: An ``httpx.AsyncClient`` to use; it is then yours to close.
    """

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str | SecretStr,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        secret = SecretStr(client_secret) if isinstance(client_secret, str) else client_secret
        if not client_id or not secret.get_secret_value():
            raise ValueError("client_id and client_secret must not be empty")
        if max_retries < 0:
            raise ValueError("max_retries must not be negative")
        self.base_url = base_url.rstrip("/")
        self.timeout = httpx.Timeout(timeout)
        self.max_retries = max_retries
        self._client_id = client_id
        self._client_secret = secret
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=self.timeout)
        self._tokens = _TokenCache()
        # Seams for tests: time, sleeping and jitter.
        self._clock: Callable[[], float] = time.monotonic
        self._sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        self._random: Callable[[], float] = random.random

    def __repr__(self) -> str:
        return (
            f"PivotClient(base_url={self.base_url!r}, client_id={self._client_id!r}, "
            f"client_secret='<redacted>', max_retries={self.max_retries})"
        )

    def with_options(
        self, *, max_retries: int | None = None, timeout: float | httpx.Timeout | None = None
    ) -> PivotClient:
        """A copy with other retry or timeout settings, sharing the connection pool and token."""
        clone = copy.copy(self)
        clone._owns_http = False
        if max_retries is not None:
            if max_retries < 0:
                raise ValueError("max_retries must not be negative")
            clone.max_retries = max_retries
        if timeout is not None:
            clone.timeout = httpx.Timeout(timeout)
        return clone

    async def close(self) -> None:
        """Close the connection pool, if this client created it."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # API

    async def authenticate(self) -> None:
        """Make sure Pivot accepts the credentials: fetch a token now, unless one is cached.

        The token is kept for the next calls, so checking costs nothing later.

        Raises:
            AuthenticationError: Pivot refused the client id or secret (401).
            APIError: Pivot could not be reached or answered something else.
        """
        await self._access_token()

    async def create_static_payment(
        self,
        *,
        client_reference_id: str,
        method: StaticPaymentMethod,
        amount: int | None = None,
        channel: str | None = None,
        virtual_account_number: str | None = None,
        virtual_account_name: str | None = None,
        customer: Customer | None = None,
        product_name: str = "Pembayaran",
        metadata: Mapping[str, str] | None = None,
        redirect_url: RedirectUrl | None = None,
    ) -> PaymentSession:
        """Create a static (MULTIPLE) VA or QRIS session.

        The ``X-REQUEST-ID`` is ``request_id_for(client_reference_id)`` on every attempt, so
        retrying this call (or repeating it later with the same arguments) never creates a
        second session.

        Args:
            client_reference_id: Our reference, 1-100 letters and digits.
            method: ``"QR"`` or ``"VIRTUAL_ACCOUNT"``.
            amount: Rupiah for a closed VA; None for an open VA. Must be None for QR.
            channel: The VA bank, e.g. ``"BCA"`` (VA only, required).
            virtual_account_number: The VA suffix in the bank's static range (VA only,
                required); Pivot puts its prefix in front.
            virtual_account_name: The name the payer sees, honoured by some banks (VA only).
            customer: The customer, if known.
            product_name: Name of the single product line Pivot requires.
            metadata: Strings echoed back in responses and callbacks.
            redirect_url: Return URLs; Pivot requires them even though API mode ignores them.

        Returns:
            The ACTIVE session, with the full VA number or the QR content.

        Raises:
            QRISAmountNotAllowedError: QR with an amount; nothing is sent.
            ValueError: Missing VA details or an invalid argument; nothing is sent.
            APIError: Pivot refused or could not be reached (see the exception hierarchy).
        """
        body = _static_payment_request(
            client_reference_id=client_reference_id,
            method=method,
            amount=amount,
            channel=channel,
            virtual_account_number=virtual_account_number,
            virtual_account_name=virtual_account_name,
            customer=customer,
            product_name=product_name,
            metadata=metadata,
            redirect_url=redirect_url,
        )
        headers = {"X-REQUEST-ID": request_id_for(client_reference_id)}
        envelope = await self._call("POST", _PAYMENTS, json=body.to_json(), headers=headers)
        return _validate(_SESSION, envelope.data, "POST", _PAYMENTS)

    async def get_payment(self, session_id: str) -> PaymentSession:
        """The session ``session_id``, with every page of its charges, newest first.

        Pivot pages a session's ``chargeDetails`` (20 by default, at most 100 a page).
        """
        if not session_id:
            raise ValueError("session_id must not be empty")
        path = f"{_PAYMENTS}/{quote(session_id, safe='')}"
        page = 1
        session: PaymentSession | None = None
        while True:
            query = {"page": page, "perPage": MAX_PAGE_SIZE}
            envelope = await self._call("GET", path, params=query)
            current = _validate(_SESSION, envelope.data, "GET", path)
            if session is None:
                session = current
            else:
                # A charge made meanwhile pushes older ones a page down: keep each once.
                known = {charge.id for charge in session.charge_details}
                session.charge_details.extend(
                    charge for charge in current.charge_details if charge.id not in known
                )
            pages = envelope.pagination.total_pages if envelope.pagination else page
            if not current.charge_details or page >= pages:
                return session
            page += 1

    async def find_payments(self, client_reference_id: str) -> list[PaymentSession]:
        """Every session created with ``client_reference_id`` (all pages)."""
        return await self._walk(_PAYMENTS, {"clientReferenceId": client_reference_id}, _SESSIONS)

    async def list_charges(self, client_reference_id: str) -> list[Charge]:
        """Every charge of the session ``client_reference_id`` (all pages), newest first."""
        return await self._walk(
            _CHARGES_PATH, {"clientReferenceId": client_reference_id}, _CHARGES
        )

    async def list_charges_page(
        self,
        client_reference_id: str | None = None,
        *,
        page: int = 1,
        per_page: int = MAX_PAGE_SIZE,
    ) -> Page[Charge]:
        """One page of charges, newest first: of the session ``client_reference_id``, or of
        the whole merchant when it is None (one call then reports many sessions' payments).

        For a caller that paces its requests itself: ``list_charges`` asks for all pages at once.
        """
        if page < 1 or not 1 <= per_page <= MAX_PAGE_SIZE:
            raise ValueError(f"page must be at least 1 and per_page 1 to {MAX_PAGE_SIZE}")
        params = {} if client_reference_id is None else {"clientReferenceId": client_reference_id}
        return await self._page(_CHARGES_PATH, params, _CHARGES, page, per_page)

    async def payment_method_configs(self) -> PaymentMethodConfigs:
        """The merchant's enabled methods, VA channels and amount limits."""
        path = "/v2/payment-method-configs"
        return _validate(_CONFIGS, (await self._call("GET", path)).data, "GET", path)

    async def simulate_payment(self, session_id: str, amount: int) -> None:
        """Pay ``amount`` rupiah into the session (sandbox and simulator only)."""
        body = {
            "paymentSessionId": session_id,
            "chargeStatus": "SUCCESS",
            "amount": Money(value=amount).model_dump(mode="json"),
        }
        await self._call("POST", f"{_PAYMENTS}/simulations", json=body)

    # Transport

    async def _walk(
        self, path: str, params: Mapping[str, str], adapter: TypeAdapter[list[T]]
    ) -> list[T]:
        items: list[T] = []
        number = 1
        while True:
            page = await self._page(path, params, adapter, number)
            items.extend(page.items)
            if page.last:
                return items
            number += 1

    async def _page(
        self,
        path: str,
        params: Mapping[str, str],
        adapter: TypeAdapter[list[T]],
        number: int,
        per_page: int = MAX_PAGE_SIZE,
    ) -> Page[T]:
        query: dict[str, str | int] = {**params, "page": number, "perPage": per_page}
        envelope = await self._call("GET", path, params=query)
        # An empty list may come as null.
        items = _validate(adapter, envelope.data or [], "GET", path)
        pages = envelope.pagination.total_pages if envelope.pagination else number
        return Page(items, number, pages)

    async def _access_token(self) -> str:
        token = self._tokens.get(self._clock())
        if token is not None:
            return token
        async with self._tokens.lock:
            # Whoever waited on the lock finds the token the first caller fetched.
            token = self._tokens.get(self._clock())
            if token is None:
                requested_at = self._clock()
                path = "/v1/access-token"
                envelope = await self._call(
                    "POST",
                    path,
                    json={"grantType": "client_credentials"},
                    headers={
                        "X-MERCHANT-ID": self._client_id,
                        "X-MERCHANT-SECRET": self._client_secret.get_secret_value(),
                    },
                    authenticate=False,
                )
                issued = _validate(_TOKEN, envelope.data, "POST", path)
                token = self._tokens.store(issued, requested_at)
            return token

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: object = None,
        headers: Mapping[str, str] | None = None,
        authenticate: bool = True,
    ) -> Envelope:
        """One API call with retries: the success envelope, or an ``APIError``."""
        retries = 0
        attempt = 0
        reauthenticated = False
        while True:
            attempt += 1
            token = await self._access_token() if authenticate else None
            request = self._http.build_request(
                method,
                self.base_url + path,
                params=params,
                json=json,
                headers=self._headers(token, headers),
                timeout=self.timeout,
            )
            started = time.perf_counter()
            try:
                response = await self._http.send(request)
            except httpx.TransportError as exc:
                _log_attempt(request, type(exc).__name__, started, None, attempt)
                if retries < self.max_retries:
                    await self._sleep(self._backoff(retries))
                    retries += 1
                    continue
                if isinstance(exc, httpx.TimeoutException):
                    raise APITimeoutError(method=method, path=path) from exc
                raise APIConnectionError(method=method, path=path) from exc

            body = _json_or_none(response)
            _log_attempt(request, response.status_code, started, trace_id_of(body), attempt)
            code = body.get("code") if isinstance(body, dict) else None
            if response.is_success and code == SUCCESS_CODE:
                return _validate(_ENVELOPE, body, method, path, status=response.status_code)
            if (
                token is not None
                and not reauthenticated
                and response.status_code == 401
                and code == "credentials_invalid"
            ):
                # The token was revoked or expired early: fetch a new one, try once more.
                self._tokens.discard(token)
                reauthenticated = True
                continue
            if _retryable(response.status_code) and retries < self.max_retries:
                await self._sleep(self._retry_delay(retries, response))
                retries += 1
                continue
            if response.is_success and not isinstance(code, str):
                raise APIResponseValidationError(
                    "the answer is not a Pivot envelope",
                    status_code=response.status_code,
                    method=method,
                    path=path,
                )
            raise status_error(response.status_code, body, method=method, path=path)

    def _headers(self, token: str | None, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        headers.update(extra or {})
        return headers

    def _backoff(self, retries: int) -> float:
        """0.5 s doubling per retry, at most 8 s, times a jitter in (0.75, 1]."""
        delay = min(INITIAL_RETRY_DELAY * 2.0**retries, MAX_RETRY_DELAY)
        return delay * (1 - 0.25 * self._random())

    def _retry_delay(self, retries: int, response: httpx.Response) -> float:
        retry_after = retry_after_seconds(response.headers.get("Retry-After"), time.time())
        return retry_after if retry_after is not None else self._backoff(retries)


def _validate(
    adapter: TypeAdapter[T], data: object, method: str, path: str, *, status: int = 200
) -> T:
    """``data`` as ``T``, or ``APIResponseValidationError`` naming what is wrong."""
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        raise APIResponseValidationError(
            f"unexpected answer: {summarize_validation_error(exc)}",
            status_code=status,
            method=method,
            path=path,
        ) from None


def _log_attempt(
    request: httpx.Request,
    status: int | str,
    started: float,
    trace_id: str | None,
    attempt: int,
) -> None:
    # The path only: queries carry references, and headers carry credentials.
    logger.info(
        "%s %s -> %s in %d ms (trace %s, attempt %d)",
        request.method,
        request.url.path,
        status,
        round((time.perf_counter() - started) * 1000),
        trace_id or "-",
        attempt,
    )


def _static_payment_request(
    *,
    client_reference_id: str,
    method: StaticPaymentMethod,
    amount: int | None,
    channel: str | None,
    virtual_account_number: str | None,
    virtual_account_name: str | None,
    customer: Customer | None,
    product_name: str,
    metadata: Mapping[str, str] | None,
    redirect_url: RedirectUrl | None,
) -> CreatePaymentRequest:
    """The body of a static session, or an error before anything is sent."""
    options = None
    if method == "QR":
        if amount is not None:
            raise QRISAmountNotAllowedError(method="POST", path=_PAYMENTS)
    elif method == "VIRTUAL_ACCOUNT":
        if not channel or not virtual_account_number:
            raise ValueError("a static VA needs a channel and a virtual_account_number suffix")
        options = PaymentMethodOptions(
            virtual_account=VirtualAccountOptions(
                channel=channel,
                virtual_account_name=virtual_account_name,
                virtual_account_number=virtual_account_number,
            )
        )
    else:
        raise ValueError(f"method must be 'QR' or 'VIRTUAL_ACCOUNT', not {method!r}")
    if amount is not None and (isinstance(amount, bool) or amount <= 0):
        raise ValueError("amount must be a positive number of rupiah, or None for an open amount")
    price = Money(value=amount if amount is not None else _NOMINAL_PRICE)
    return CreatePaymentRequest(
        client_reference_id=client_reference_id,
        amount=Money(value=amount) if amount is not None else None,
        payment_method=PaymentMethodChoice(type=method),
        payment_method_options=options,
        redirect_url=redirect_url or RedirectUrl(),
        customer=customer,
        order_information=OrderInformation(
            product_details=[ProductDetail(type="DIGITAL", name=product_name, price=price)]
        ),
        metadata=dict(metadata) if metadata is not None else None,
    )
