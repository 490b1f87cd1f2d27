"""The simulator's operations over its in-memory state, shared by the routes and by tests."""

from __future__ import annotations

import hmac
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from pivot_client._json import compact_json
from pivot_client.simulator._callbacks import CallbackSender, DeliveryAttempt
from pivot_client.simulator._config import SimulatorConfig
from pivot_client.simulator._qris import SIMULATION_QR_DESCRIPTOR, build_static_qris
from pivot_client.simulator._responses import PivotError
from pivot_client.simulator._state import (
    DEFAULT_EVENT,
    GO_ZERO_TIME,
    Charge,
    ChargeDetails,
    FailRule,
    RememberedAnswer,
    Session,
    timestamp,
)
from pivot_client.simulator._validation import (
    QRIS_LIMIT,
    VA_TAKEN,
    PaymentRequest,
    VirtualAccountRequest,
    check_amount_range,
    parse_payment_request,
    parse_simulation,
)

__all__ = ["Simulator"]

_KEY_LIFETIME_SECONDS = 24 * 3600  # Pivot remembers an X-REQUEST-ID for 24 h
_QR_ISSUERS = ("GOPAY", "OVO", "DANA", "SHOPEEPAY", "LINKAJA", "BCA MOBILE")
_VA_DEFAULT_NAME = "Kodebayar"
_STATEMENT_DESCRIPTOR = "SIMULASI KODEBAYAR"


def _same_secret(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def _json_bytes(content: Any) -> bytes:
    # Serialised like Starlette's JSONResponse, so callbacks and API answers look alike.
    return compact_json(content).encode()


class Simulator:
    """A stateful stand-in for Pivot's sandbox: sessions, charges, tokens and callbacks.

    ``create_app`` keeps one on ``app.state.simulator``; tests read its state and call the
    same controls as the ``/_simulator/`` routes.

    Attributes:
        config: the settings this simulator runs with.
        sessions: payment sessions by id, in creation order.
        charges: charges by id, in creation order.
        closed_va_lifetime: how long the closed VAs created from now on take payments
            (``config.closed_va_lifetime`` at first); a test control.
    """

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.closed_va_lifetime = config.closed_va_lifetime
        self.sessions: dict[str, Session] = {}
        self.charges: dict[str, Charge] = {}
        self._tokens: dict[str, float] = {}  # token -> monotonic expiry
        self._answers: dict[str, RememberedAnswer] = {}
        self._fail_rules: list[FailRule] = []
        self._callback_bodies: dict[str, bytes] = {}
        self._qr_payments = 0  # picks the next e-wallet that "pays" a QRIS
        self._callbacks = CallbackSender(
            config.callback_url, config.callback_key, config.callback_retry_delays
        )

    @property
    def deliveries(self) -> list[DeliveryAttempt]:
        """Every callback attempt so far, oldest first."""
        return self._callbacks.log

    @property
    def pending_deliveries(self) -> int:
        """How many callbacks are still being tried."""
        return self._callbacks.pending

    def issue_token(self, client_id: str | None, client_secret: str | None) -> str:
        """A new bearer token for the configured credentials."""
        if not (
            _same_secret(client_id, self.config.client_id)
            and _same_secret(client_secret, self.config.client_secret)
        ):
            raise PivotError(401, "Client ID or Client Secret is invalid", field="X-MERCHANT-ID")
        now = self.config.clock()
        self._tokens = {token: end for token, end in self._tokens.items() if end > now}
        token = secrets.token_urlsafe(32)
        self._tokens[token] = now + self.config.token_lifetime
        return token

    def check_token(self, authorization: str | None) -> None:
        """Accept only ``Bearer <token>`` with a token issued here and not yet expired."""
        scheme, _, token = (authorization or "").partition(" ")
        expiry = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if expiry is None or self.config.clock() >= expiry:
            raise PivotError(401, "Access token is invalid", field="Authorization")

    def replay(self, request_id: str, payload: object) -> RememberedAnswer | None:
        """The answer first given under ``request_id``, if it was for the same payload.

        Raises:
            PivotError: 409 ``idempotency_error`` when the key came with another payload.
        """
        answer = self._answers.get(request_id)
        if answer is None or self.config.clock() - answer.at >= _KEY_LIFETIME_SECONDS:
            return None
        if answer.payload != payload:
            raise PivotError(
                409,
                "The same Idempotency-key was already used with a different payload",
                code="idempotency_error",
                field="X-REQUEST-ID",
            )
        return answer

    def remember(self, request_id: str, payload: object, status: int, body: bytes) -> None:
        """Keep an answer for replays of ``request_id``."""
        self._answers[request_id] = RememberedAnswer(payload, status, body, self.config.clock())

    def create_payment(self, body: object, *, base_url: str) -> Session:
        """Create a static VA or QRIS session from a raw request body.

        Args:
            body: the parsed JSON of ``POST /v2/payments``.
            base_url: this server's root, for the session's ``qrUrl``.

        Raises:
            PivotError: with Pivot's code and message for the first problem found; 409
                ``duplicate_error`` for a ``clientReferenceId`` used before.
        """
        request = parse_payment_request(
            body, va_rules=self.config.va_rules, amount_range=self.config.amount_range
        )
        account = request.virtual_account
        if account is not None and any(
            (session.channel, session.va_suffix) == (account.channel, account.suffix)
            for session in self.sessions.values()
        ):
            raise PivotError.invalid(
                "paymentMethodOptions.virtualAccount.virtualAccountNumber", VA_TAKEN
            )
        if any(
            session.client_reference_id == request.client_reference_id
            for session in self.sessions.values()
        ):
            # Pivot keeps one session per clientReferenceId. Within 24 h the same key and body
            # replay the first answer before this check; after that the reference is refused.
            # Which of this and the VA number Pivot checks first is undocumented: a client
            # must expect either answer for a request repeated after 24 h.
            raise PivotError(
                409,
                "clientReferenceId already exists",
                code="duplicate_error",
                field="clientReferenceId",
            )
        if request.method == "QR" and (
            # Pivot counts ACTIVE static QRIS only (against the merchant's stores + 1).
            sum(s.method == "QR" and s.status == "ACTIVE" for s in self.sessions.values())
            >= self.config.qris_limit
        ):
            raise PivotError.invalid("paymentMethod.type", QRIS_LIMIT)
        session_id = uuid.uuid4()
        now = datetime.now(UTC)
        session = Session(
            id=str(session_id),
            client_reference_id=request.client_reference_id,
            method=request.method,
            amount=request.amount,
            channel=account.channel if account else None,
            va_suffix=account.suffix if account else None,
            method_details=(
                self._virtual_account(account) if account else self._qr(session_id, now, base_url)
            ),
            echo=self._echo(request),
            created_at=now,
            updated_at=now,
            # Pivot's limitation page: a closed static VA expires (30 days), an open one never.
            expiry_at=now + self.closed_va_lifetime if account and request.amount else None,
        )
        self.sessions[session.id] = session
        return session

    def _virtual_account(self, account: VirtualAccountRequest) -> dict[str, Any]:
        return {
            "channel": account.channel,
            "virtualAccountNumber": self.config.va_prefix(account.channel) + account.suffix,
            "virtualAccountName": f"SIMULASI - {account.name or _VA_DEFAULT_NAME}",
            "expiryAt": GO_ZERO_TIME,
        }

    @staticmethod
    def _qr(session_id: uuid.UUID, now: datetime, base_url: str) -> dict[str, Any]:
        # Merchant id, NMID and reference all come from the session id: unique per session,
        # and still unique after a reset (the bot may keep codes from before it).
        store_id = f"{session_id.int % 10**12:012d}"
        content = build_static_qris(
            merchant_id=store_id,
            nmid=f"ID{(session_id.int >> 64) % 10**13:013d}",
            reference=f"SIM{session_id.hex[:20].upper()}",
        )
        return {
            "acquirer": "BNC",
            "qrContent": content,
            "qrUrl": f"{base_url.rstrip('/')}/_simulator/payments/{session_id}/qr.png",
            "qrType": "STATIC",
            "merchantName": SIMULATION_QR_DESCRIPTOR,
            "storeId": store_id,
            "retrievalReferenceNumber": "",
            "issuerName": "",
            # Pivot's static sample carries about the creation time here; it means nothing.
            "expiryAt": timestamp(now),
        }

    @staticmethod
    def _echo(request: PaymentRequest) -> dict[str, Any]:
        echo = dict(request.echo)
        echo["statementDescriptor"] = echo["statementDescriptor"] or _STATEMENT_DESCRIPTOR
        customer = echo["customer"]
        if echo["customerId"] is None:
            # Pivot derives the customer id from the email, the customer's unique key.
            email = customer["email"] if customer else None
            echo["customerId"] = str(uuid.uuid5(uuid.NAMESPACE_URL, email)) if email else ""
        return echo

    def get_payment(self, session_id: str) -> Session:
        """The session with this id (INACTIVE once a closed VA's expiry has passed).

        Raises:
            PivotError: 404 ``resource_missing`` for an unknown id.
        """
        session = self.sessions.get(session_id)
        if session is None:
            raise PivotError(404, "Payment session not found", code="resource_missing", field="id")
        session.expire_if_due(datetime.now(UTC))
        return session

    def find_payments(self, client_reference_id: str | None = None) -> list[Session]:
        """Sessions, newest first, optionally only those with this ``clientReferenceId``."""
        now = datetime.now(UTC)
        found = [
            session
            for session in reversed(self.sessions.values())
            if client_reference_id in (None, session.client_reference_id)
        ]
        for session in found:
            session.expire_if_due(now)
        return found

    def find_charges(self, client_reference_id: str | None = None) -> list[Charge]:
        """Charges, newest first, optionally only those of this ``clientReferenceId``."""
        return [
            charge
            for charge in reversed(self.charges.values())
            if client_reference_id in (None, charge.client_reference_id)
        ]

    def simulate(self, body: object) -> None:
        """Handle a ``POST /v2/payments/simulations`` body: pay or retire a session.

        ``SUCCESS`` records a charge and sends its ``CHARGE.SUCCESS`` callback. ``EXPIRED``
        makes the session ``INACTIVE``, the final state Pivot gives a static code that stops
        taking payments; Pivot documents no callback for it, so none is sent. A session that
        is not ACTIVE (a closed VA past its ``expiryAt`` among them) takes neither.
        """
        request = parse_simulation(body)
        session = self.get_payment(request.session_id)
        if request.amount is None:
            # Mandatory for MULTIPLE sessions, and every session here is MULTIPLE.
            raise PivotError.missing("amount")
        if session.status != "ACTIVE":
            raise PivotError(422, f"Payment session is {session.status}", field="paymentSessionId")
        if request.status == "EXPIRED":
            session.status = "INACTIVE"
            session.updated_at = datetime.now(UTC)
            return
        if session.amount is not None and request.amount != session.amount:
            # A bank checks a closed VA's amount at inquiry and refuses any other, so such a
            # payment never reaches Pivot. record_charge() can still force one for tests.
            raise PivotError.invalid(
                "amount.value",
                f"amount.value must equal the closed Virtual Account's amount {session.amount}",
            )
        check_amount_range(
            request.amount, "amount.value", self.config.amount_range(session.method)
        )
        self.record_charge(session.id, request.amount)

    def record_charge(
        self,
        session_id: str,
        amount: int,
        *,
        deliver: bool = True,
        event: str = DEFAULT_EVENT,
        charge_details: ChargeDetails = "new",
    ) -> Charge:
        """Record a SUCCESS charge of any amount; send its callback unless ``deliver`` is false.

        Unlike ``simulate``, this accepts an amount a bank would refuse (say, another amount on
        a closed VA), so that tests can check how such a charge is flagged. ``event`` and
        ``charge_details`` shape the callback as Pivot might: its only published sample is
        ``PAYMENT.PAID``, and what ``chargeDetails`` holds is not documented.
        """
        session = self.get_payment(session_id)
        now = datetime.now(UTC)
        charge_id = uuid.uuid4()
        details = dict(session.method_details)
        if session.method == "QR":
            details["issuerName"] = _QR_ISSUERS[self._qr_payments % len(_QR_ISSUERS)]
            details["retrievalReferenceNumber"] = f"{charge_id.int % 10**12:012d}"
            self._qr_payments += 1
        charge = Charge(
            id=str(charge_id),
            session_id=session.id,
            client_reference_id=session.client_reference_id,
            amount=amount,
            method_key=session.method_key,
            method_details=details,
            created_at=now,
        )
        session.charges.insert(0, charge)
        session.updated_at = now
        self.charges[charge.id] = charge
        # Pivot publishes no CHARGE.SUCCESS sample: by default we send only the new charge
        # (docs/pivot-api.md §callbacks); the bot must cope with any of ``CHARGE_DETAILS``.
        self._callback_bodies[charge.id] = _json_bytes(
            {"event": event, "data": session.to_json(session.callback_charges(charge_details))}
        )
        if deliver:
            self._callbacks.send(charge.id, self._callback_bodies[charge.id])
        return charge

    def callback_body(self, charge_id: str) -> bytes:
        """The ``CHARGE.SUCCESS`` body of a charge, exactly as it is (or would be) sent."""
        body = self._callback_bodies.get(charge_id)
        if body is None:
            raise PivotError(404, "Charge not found", code="resource_missing", field="chargeId")
        return body

    def redeliver(self, charge_id: str) -> None:
        """Send a charge's callback again with its first body, like Pivot's manual retry."""
        self._callbacks.send(charge_id, self.callback_body(charge_id))

    def fail_next(
        self, method: str, path: str, *, count: int = 1, status: int = 503, processed: bool = False
    ) -> None:
        """Answer the next ``count`` requests to ``method path`` with an error ``status``.

        With ``processed``, each request is handled first and only its answer is replaced, as
        when a response is lost on the way back.
        """
        self._fail_rules.append(FailRule(method.upper(), path, status, count, processed))

    def clear_failures(self) -> None:
        """Forget every failure still to be injected: Pivot answers again."""
        self._fail_rules.clear()

    def take_failure(self, method: str, path: str) -> FailRule | None:
        """Use up one injected failure for this request, if one is pending."""
        for rule in self._fail_rules:
            if (rule.method, rule.path) == (method.upper(), path):
                rule.remaining -= 1
                if rule.remaining == 0:
                    self._fail_rules.remove(rule)
                return rule
        return None

    async def reset(self) -> None:
        """Forget sessions, charges, keys, failures and callbacks; issued tokens stay valid."""
        await self._callbacks.cancel_pending()
        self.sessions.clear()
        self.charges.clear()
        self._answers.clear()
        self._fail_rules.clear()
        self._callback_bodies.clear()
        self._callbacks.log.clear()
        self._qr_payments = 0

    async def aclose(self) -> None:
        """Stop pending callbacks and close the HTTP client."""
        await self._callbacks.aclose()
