"""CodeIssuer against the Pivot simulator over loopback, with a real database in tmp_path."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.clock import utcnow
from bot.codes import (
    SUFFIX_ATTEMPTS,
    AboveMaximumError,
    BelowMinimumError,
    CodeIssuer,
    DailyLimitError,
    OpenVALimitError,
    PivotRejectedError,
    PivotUnavailableError,
    QRISLimitError,
    VAExhaustedError,
    VARangeError,
)
from bot.drafts import Draft
from bot.settings import Settings
from bot.texts import text
from pivot_client import PivotClient, parse_va_rule_overrides
from pivot_client.qris import parse_tlv
from pivot_client.simulator import DEFAULT_VA_PREFIXES, Simulator, SimulatorConfig, create_app
from storage import CodeKind, CodeStatus, Database, Role, Seller
from tests.standins import FakeClock, add_seller, serving

ADMIN = 1000
SELLER = 2001
NOW = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
JAKARTA = ZoneInfo("Asia/Jakarta")


@dataclass
class Rig:
    """An issuer wired to a live simulator and a fresh database."""

    issuer: CodeIssuer
    db: Database
    simulator: Simulator
    pivot: PivotClient
    seller: Seller


def settings(**overrides: Any) -> Settings:
    """Bot settings pointing nowhere in particular (the issuer gets its client directly)."""
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        telegram_bot_token="1:test",
        pivot_client_id="sim-client-id",
        pivot_client_secret="sim-client-secret",
        pivot_callback_api_key="callback-key",
        admin_telegram_ids=frozenset({ADMIN}),
        **overrides,
    )


@asynccontextmanager
async def rigged(
    tmp_path: Path,
    *,
    va_ranges: str = "",
    simulator_ranges: str | None = None,
    limits: dict[str, int] | None = None,
    **sim: Any,
) -> AsyncIterator[Rig]:
    """A simulator (with its own VA ranges if given), a database and an issuer.

    ``limits`` sets the issuer's ``seller_*`` settings.
    """
    rules = parse_va_rule_overrides(va_ranges if simulator_ranges is None else simulator_ranges)
    app = create_app(
        SimulatorConfig(callback_url=None, callback_key="callback-key", va_rules=rules, **sim)
    )
    async with serving(app) as server:
        db = await Database.open(tmp_path / "kodebayar.db")
        pivot = PivotClient(
            client_id="sim-client-id",
            client_secret="sim-client-secret",
            base_url=server.url,
            max_retries=0,
        )
        try:
            seller = await invited_seller(db, SELLER)
            issuer = CodeIssuer(db, pivot, settings(pivot_va_ranges=va_ranges, **(limits or {})))
            yield Rig(issuer, db, app.state.simulator, pivot, seller)
        finally:
            await pivot.close()
            await db.close()


async def invited_seller(db: Database, telegram_id: int) -> Seller:
    """A seller the operator invited."""
    return await add_seller(db, telegram_id, name="Sari", invited_by=ADMIN, now=NOW)


QRIS = Draft(kind=CodeKind.QRIS, customer="Bu Ani")


def va(bank: str, amount: int | None = None, customer: str = "Pak Budi") -> Draft:
    """A complete VA draft."""
    return Draft(kind=CodeKind.VA, bank=bank, customer=customer).with_amount(amount)


async def test_qris_code_keeps_its_amount_and_pivot_content(tmp_path: Path) -> None:
    async with rigged(tmp_path) as rig:
        code = await rig.issuer.issue(rig.seller, QRIS.with_amount(25_000), "7:10")

        [session] = rig.simulator.sessions.values()
        assert code.status is CodeStatus.ACTIVE
        assert code.kind is CodeKind.QRIS and code.bank is None and code.va_suffix is None
        assert code.amount == 25_000  # ours, as the expected amount
        assert session.amount is None  # static QRIS at Pivot is open-amount only
        assert code.qr_content == session.method_details["qrContent"]
        # The name payers see is tag 59 of the QR, not the session's merchantName.
        assert code.merchant_name == parse_tlv(code.qr_content or "")["59"]
        assert code.merchant_name != session.method_details["merchantName"]
        assert code.pivot_session_id == session.id
        assert code.simulation is True
        assert session.echo["metadata"] == {"code": str(code.id), "customer": "Bu Ani"}
        assert re.fullmatch(r"kb[0-9a-f]{30}", code.client_reference_id)
        assert await rig.db.codes.get(code.id) == code


async def test_closed_va_carries_amount_name_and_full_number(tmp_path: Path) -> None:
    async with rigged(tmp_path) as rig:
        code = await rig.issuer.issue(rig.seller, va("BCA", 50_000), "7:11")

        [session] = rig.simulator.sessions.values()
        assert code.status is CodeStatus.ACTIVE
        assert (code.bank, code.va_suffix, code.amount) == ("BCA", 0, 50_000)
        assert session.amount == 50_000
        assert code.va_number == DEFAULT_VA_PREFIXES["BCA"] + "000000"
        assert code.va_number == session.method_details["virtualAccountNumber"]
        assert "Pak Budi" in session.method_details["virtualAccountName"]
        assert code.qr_content is None and code.merchant_name is None


async def test_open_va_has_no_amount_anywhere(tmp_path: Path) -> None:
    async with rigged(tmp_path) as rig:
        code = await rig.issuer.issue(rig.seller, va("BRI"), "7:12")

        [session] = rig.simulator.sessions.values()
        assert code.amount is None and session.amount is None
        assert code.va_number == DEFAULT_VA_PREFIXES["BRI"] + "0000000"


async def test_a_closed_va_keeps_the_expiry_of_its_session(tmp_path: Path) -> None:
    async with rigged(tmp_path, closed_va_lifetime=timedelta(days=5)) as rig:
        closed = await rig.issuer.issue(rig.seller, va("BCA", 50_000), "7:13")
        open_va = await rig.issuer.issue(rig.seller, va("BRI"), "7:14")
        qris = await rig.issuer.issue(rig.seller, QRIS, "7:15")

        session = rig.simulator.sessions[str(closed.pivot_session_id)]
        assert closed.expires_at is not None
        assert closed.expires_at == session.expiry_at == session.created_at + timedelta(days=5)
        assert open_va.expires_at is None and qris.expires_at is None
        assert await rig.db.codes.get(closed.id) == closed


async def test_long_names_are_cut_to_what_pivot_allows(tmp_path: Path) -> None:
    async with rigged(tmp_path) as rig:
        # Drafts hold cleaned names already; the issuer must still never send more than 100.
        code = await rig.issuer.issue(rig.seller, va("BNI", customer="N" * 150), "7:13")

        [session] = rig.simulator.sessions.values()
        assert code.customer == "N" * 150
        assert session.method_details["virtualAccountName"].endswith("N" * 100)
        assert "N" * 101 not in session.method_details["virtualAccountName"]


async def test_suffixes_are_allocated_in_order_per_bank(tmp_path: Path) -> None:
    async with rigged(tmp_path) as rig:
        first = await rig.issuer.issue(rig.seller, va("BNI"), "7:20")
        second = await rig.issuer.issue(rig.seller, va("BNI", 50_000), "7:21")
        other_bank = await rig.issuer.issue(rig.seller, va("BRI"), "7:22")

        assert (first.va_suffix, second.va_suffix, other_bank.va_suffix) == (0, 1, 0)


def limits_pivot_does_not_keep(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    """Let ``rig``'s issuer take any amount, as when the limits Pivot publishes are laxer than
    the ones it applies: Pivot's own 400 then says no."""

    async def no_problem(kind: CodeKind, bank: str | None, amount: int) -> None:
        return None

    monkeypatch.setattr(rig.issuer, "amount_problem", no_problem)


async def test_a_suffix_pivot_made_nothing_with_is_handed_out_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with rigged(tmp_path) as rig:
        limits_pivot_does_not_keep(rig, monkeypatch)
        first = await rig.issuer.issue(rig.seller, va("BNI"), "7:23")
        with pytest.raises(PivotRejectedError):  # below Pivot's VA minimum: a plain 400
            await rig.issuer.issue(rig.seller, va("BNI", 5_000), "7:24")
        third = await rig.issuer.issue(rig.seller, va("BNI"), "7:25")

        refused = await rig.db.codes.get(first.id + 1)
        assert refused is not None and refused.status is CodeStatus.FAILED
        assert refused.va_suffix is None
        assert refused.failure == "rejected: 400 api_validation_error; suffix 1 released"
        assert (first.va_suffix, third.va_suffix) == (0, 1)
        assert third.va_number == DEFAULT_VA_PREFIXES["BNI"] + "0001"
        assert len(rig.simulator.sessions) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_every_outright_refusal_gives_the_suffix_back(tmp_path: Path, status: int) -> None:
    async with rigged(tmp_path) as rig:
        # Twice: the client answers a 401 with a fresh token and one more try.
        rig.simulator.fail_next("POST", "/v2/payments", status=status, count=2)
        with pytest.raises(PivotRejectedError):
            await rig.issuer.issue(rig.seller, va("BCA"), "7:26")
        rig.simulator.take_failure("POST", "/v2/payments")  # what a 401 left armed

        code = await rig.issuer.issue(rig.seller, va("BCA"), "7:27")

        assert code.va_suffix == 0


async def test_a_conflict_keeps_the_suffix(tmp_path: Path) -> None:
    async with rigged(tmp_path) as rig:
        rig.simulator.fail_next("POST", "/v2/payments", status=409)  # "record already exists"
        with pytest.raises(PivotRejectedError):
            await rig.issuer.issue(rig.seller, va("BCA"), "7:28")

        code = await rig.issuer.issue(rig.seller, va("BCA"), "7:29")

        assert code.va_suffix == 1


async def test_a_number_pivot_kept_after_a_refusal_is_still_never_shared(tmp_path: Path) -> None:
    async with rigged(tmp_path) as rig:
        # Against Pivot's documentation, the session is made and the answer is a 400 anyway.
        rig.simulator.fail_next("POST", "/v2/payments", status=400, processed=True)
        with pytest.raises(PivotRejectedError):
            await rig.issuer.issue(rig.seller, va("BCA"), "7:32")

        code = await rig.issuer.issue(rig.seller, va("BCA"), "7:33")

        # Suffix 0 is offered again, Pivot says it is taken, and the next one is used.
        assert code.status is CodeStatus.ACTIVE and code.va_suffix == 1
        numbers = [
            s.method_details["virtualAccountNumber"] for s in rig.simulator.sessions.values()
        ]
        assert len(numbers) == len(set(numbers)) == 2


async def test_a_refusal_after_an_answer_in_doubt_keeps_the_suffix(tmp_path: Path) -> None:
    async with rigged(tmp_path) as rig:
        # The first try's answer is lost: the session may exist under that suffix.
        rig.simulator.fail_next("POST", "/v2/payments", status=503)
        with pytest.raises(PivotUnavailableError):
            await rig.issuer.issue(rig.seller, va("BCA"), "7:30")
        rig.simulator.fail_next("POST", "/v2/payments", status=400)
        with pytest.raises(PivotRejectedError):
            await rig.issuer.issue(rig.seller, va("BCA"), "7:30")

        failed = await rig.db.codes.get(1)
        assert failed is not None and (failed.status, failed.va_suffix) == (CodeStatus.FAILED, 0)
        assert (await rig.issuer.issue(rig.seller, va("BCA"), "7:31")).va_suffix == 1


async def test_suffixes_start_at_the_range_start(tmp_path: Path) -> None:
    async with rigged(tmp_path, va_ranges="BNI=0100-0199") as rig:
        code = await rig.issuer.issue(rig.seller, va("BNI"), "7:24")

        assert code.va_suffix == 100
        assert code.va_number is not None and code.va_number.endswith("0100")


async def test_open_and_closed_vas_get_suffixes_from_their_own_ranges(tmp_path: Path) -> None:
    split = "BNI:open=0000-0001,BNI:closed=0050-0059"
    async with rigged(tmp_path, va_ranges=split) as rig:
        opened = [await rig.issuer.issue(rig.seller, va("BNI"), f"7:2{n}") for n in range(2)]
        closed = await rig.issuer.issue(rig.seller, va("BNI", 25_000), "7:27")
        with pytest.raises(VAExhaustedError):  # the open range is used up, not the closed one
            await rig.issuer.issue(rig.seller, va("BNI"), "7:28")
        another_closed = await rig.issuer.issue(rig.seller, va("BNI", 30_000), "7:29")

        assert [code.va_suffix for code in opened] == [0, 1]
        assert (closed.va_suffix, another_closed.va_suffix) == (50, 51)
        assert closed.va_number is not None and closed.va_number.endswith("0050")
        alert = await rig.db.outbox.by_dedupe_key(f"alert:va_exhausted:BNI:0-1:{ADMIN}")
        assert alert is not None and "BNI:open" in alert.payload


async def test_already_assigned_suffix_is_burnt_and_the_next_one_used(tmp_path: Path) -> None:
    async with rigged(tmp_path) as rig:
        # Someone took BNI 0000 and 0001 outside Kodebayar.
        for suffix in ("0000", "0001"):
            await rig.pivot.create_static_payment(
                client_reference_id=f"outside{suffix}",
                method="VIRTUAL_ACCOUNT",
                channel="BNI",
                virtual_account_number=suffix,
            )

        code = await rig.issuer.issue(rig.seller, va("BNI", 30_000), "7:30")

        assert code.status is CodeStatus.ACTIVE and code.va_suffix == 2
        burnt = [await rig.db.codes.get(code.id - n) for n in (2, 1)]
        assert [(c.va_suffix, c.status, c.request_key) for c in burnt if c] == [
            (0, CodeStatus.FAILED, "7:30"),
            (1, CodeStatus.FAILED, "7:30"),
        ]
        assert len({c.client_reference_id for c in [*burnt, code] if c}) == 3
        assert await rig.db.codes.find_by_request_key(SELLER, "7:30") == code


async def test_suffixes_taken_again_and_again_fail_the_code_and_alert(tmp_path: Path) -> None:
    async with rigged(tmp_path) as rig:
        # Something outside Kodebayar hands out BNI's range: every try finds its suffix taken.
        for suffix in range(SUFFIX_ATTEMPTS):
            await rig.pivot.create_static_payment(
                client_reference_id=f"outside{suffix}",
                method="VIRTUAL_ACCOUNT",
                channel="BNI",
                virtual_account_number=f"{suffix:04d}",
            )

        with pytest.raises(PivotRejectedError):
            await rig.issuer.issue(rig.seller, va("BNI", 30_000), "7:31")

        codes = [await rig.db.codes.get(n) for n in range(1, SUFFIX_ATTEMPTS + 1)]
        assert [(c.va_suffix, c.status) for c in codes if c] == [
            (n, CodeStatus.FAILED) for n in range(SUFFIX_ATTEMPTS)
        ]
        assert await rig.db.codes.get(SUFFIX_ATTEMPTS + 1) is None  # no suffix burnt untried
        last = SUFFIX_ATTEMPTS
        alert = await rig.db.outbox.by_dedupe_key(f"alert:rejected:{last}:{ADMIN}")
        assert alert is not None and "already" in alert.payload.lower()


async def test_exhausted_range_is_refused_and_reported_once(tmp_path: Path) -> None:
    async with rigged(tmp_path, va_ranges="BNI=0000-0001") as rig:
        await rig.issuer.issue(rig.seller, va("BNI"), "7:40")
        await rig.issuer.issue(rig.seller, va("BNI"), "7:41")

        for key in ("7:42", "7:43"):
            with pytest.raises(VAExhaustedError) as caught:
                await rig.issuer.issue(rig.seller, va("BNI"), key)

        assert caught.value.values == {"bank": "BNI", "capacity": 2}
        assert await rig.db.codes.count_for_seller(SELLER) == 2
        alert = await rig.db.outbox.by_dedupe_key(f"alert:va_exhausted:BNI:0-1:{ADMIN}")
        assert alert is not None and alert.chat_id == ADMIN and "BNI" in alert.payload
        # Once, beside the warning that the range was filling up (the second number).
        assert await rig.db.outbox.by_dedupe_key(f"alert:va_range_80:BNI:0-1:{ADMIN}")
        assert await rig.db.outbox.count() == 2
        # Other banks are unaffected.
        assert (await rig.issuer.issue(rig.seller, va("BRI"), "7:44")).status is CodeStatus.ACTIVE


async def test_suffix_outside_pivots_range_fails_and_alerts(tmp_path: Path) -> None:
    async with rigged(
        tmp_path, va_ranges="BNI=0000-0009", simulator_ranges="BNI=0005-0009"
    ) as rig:
        with pytest.raises(VARangeError) as caught:
            await rig.issuer.issue(rig.seller, va("BNI"), "7:50")

        assert caught.value.key == "error.va_range" and caught.value.values == {"bank": "BNI"}
        assert await rig.db.codes.find_by_request_key(SELLER, "7:50") is None  # FAILED
        alert = await rig.db.outbox.by_dedupe_key(f"alert:va_range:BNI:0-9:{ADMIN}")
        assert alert is not None and "0000" in alert.payload
        # A number outside Pivot's range is not offered again: it would only be refused again.
        failed = await rig.db.codes.get(1)
        assert failed is not None and failed.va_suffix == 0


async def test_qris_limit_fails_and_alerts(tmp_path: Path) -> None:
    async with rigged(tmp_path, qris_limit=2) as rig:
        for key in ("7:58", "7:59"):
            await rig.issuer.issue(rig.seller, QRIS.with_amount(None), key)
        async with rig.db.write() as tx:  # retired here, still ACTIVE at Pivot
            await tx.codes.deactivate(1, now=NOW)

        with pytest.raises(QRISLimitError) as caught:
            await rig.issuer.issue(rig.seller, QRIS.with_amount(None), "7:60")

        failed = await rig.db.codes.get(3)
        assert failed is not None and (failed.status, failed.failure) == (
            CodeStatus.FAILED,
            "qris_limit",
        )
        assert caught.value.code.id == failed.id
        assert caught.value.values == {"customer": "Bu Ani"}
        alert = await rig.db.outbox.by_dedupe_key(
            f"alert:qris_limit:{datetime.now(UTC).date().isoformat()}:{ADMIN}"
        )
        assert alert is not None
        assert "1 QRIS aktif dan 1 yang sudah dinonaktifkan" in alert.payload
        assert await rig.db.outbox.count() == 1


async def test_other_refusals_fail_the_code_and_give_pivots_reason_to_the_operators(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with rigged(tmp_path) as rig:
        limits_pivot_does_not_keep(rig, monkeypatch)
        with pytest.raises(PivotRejectedError) as caught:
            await rig.issuer.issue(rig.seller, va("BCA", 5_000), "7:70")

        # Pivot's own sentence is English and technical: the operators get it, not the seller.
        assert (caught.value.key, caught.value.values) == ("error.pivot_rejected", {})
        failed = await rig.db.codes.get(1)
        assert failed is not None and failed.status is CodeStatus.FAILED
        assert failed.failure is not None and failed.failure.startswith("rejected: 400")
        alert = await rig.db.outbox.by_dedupe_key(f"alert:rejected:1:{ADMIN}")
        assert alert is not None and "amount" in alert.payload.lower()
        # A fresh try with the same key starts over rather than reviving the failed code.
        code = await rig.issuer.issue(rig.seller, va("BCA", 15_000), "7:70")
        assert code.status is CodeStatus.ACTIVE and code.id == 2


# The seller's limits and the range warning


async def test_past_the_daily_limit_pivot_is_not_asked_and_the_reset_is_named(
    tmp_path: Path,
) -> None:
    async with rigged(tmp_path, limits={"seller_codes_per_day": 2}) as rig:
        await rig.issuer.issue(rig.seller, QRIS, "8:1")
        await rig.issuer.issue(rig.seller, va("BCA"), "8:2")
        rig.simulator.fail_next("POST", "/v2/payments", status=503)  # tells if Pivot is asked

        with pytest.raises(DailyLimitError) as caught:
            await rig.issuer.issue(rig.seller, va("BRI", 20_000), "8:3")

        assert caught.value.key == "error.limit_codes_per_day"
        tomorrow = utcnow().astimezone(JAKARTA).date() + timedelta(days=1)
        assert caught.value.values == {"limit": 2, "resets": f"{tomorrow:%d/%m/%Y} 00:00 WIB"}
        assert rig.simulator.take_failure("POST", "/v2/payments") is not None  # still armed
        assert await rig.db.codes.count_for_seller(SELLER) == 2
        assert await rig.db.outbox.count() == 0
        # A code already made for a request is still handed back past the limit.
        assert (await rig.issuer.issue(rig.seller, QRIS, "8:1")).status is CodeStatus.ACTIVE


async def test_the_daily_limit_resets_at_midnight_in_the_sellers_zone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with rigged(tmp_path, limits={"seller_codes_per_day": 1}) as rig:
        # 23:59 WIB, then 00:00 WIB the next day (17:00 UTC).
        monkeypatch.setattr("bot.codes.utcnow", lambda: datetime(2026, 1, 5, 16, 59, tzinfo=UTC))
        await rig.issuer.issue(rig.seller, QRIS, "8:10")
        with pytest.raises(DailyLimitError) as caught:
            await rig.issuer.issue(rig.seller, QRIS, "8:11")
        assert caught.value.values["resets"] == "06/01/2026 00:00 WIB"

        monkeypatch.setattr("bot.codes.utcnow", lambda: datetime(2026, 1, 5, 17, 0, tzinfo=UTC))
        assert (await rig.issuer.issue(rig.seller, QRIS, "8:11")).status is CodeStatus.ACTIVE


async def test_refused_codes_do_not_count_against_the_daily_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with rigged(tmp_path, limits={"seller_codes_per_day": 1}) as rig:
        limits_pivot_does_not_keep(rig, monkeypatch)
        with pytest.raises(PivotRejectedError):
            await rig.issuer.issue(rig.seller, va("BCA", 5_000), "8:20")

        assert (await rig.issuer.issue(rig.seller, va("BCA"), "8:21")).va_suffix == 0


async def test_open_vas_are_limited_per_bank(tmp_path: Path) -> None:
    async with rigged(tmp_path, limits={"seller_open_va_per_bank": 1}) as rig:
        held = await rig.issuer.issue(rig.seller, va("BCA"), "8:30")
        async with rig.db.write() as tx:
            await tx.codes.deactivate(held.id, now=utcnow())  # Pivot keeps it open all the same

        with pytest.raises(OpenVALimitError) as caught:
            await rig.issuer.issue(rig.seller, va("BCA"), "8:31")

        assert (caught.value.key, caught.value.values) == (
            "error.limit_open_va",
            {"limit": 1, "bank": "BCA"},
        )
        assert await rig.db.outbox.count() == 0  # the seller's own limit: no operator told
        # A fixed amount, another bank, QRIS and another seller are all still fine.
        other = await invited_seller(rig.db, 3001)
        made = [
            await rig.issuer.issue(rig.seller, va("BCA", 25_000), "8:32"),
            await rig.issuer.issue(rig.seller, va("BRI"), "8:33"),
            await rig.issuer.issue(rig.seller, QRIS, "8:34"),
            await rig.issuer.issue(other, va("BCA"), "8:35"),
        ]
        assert all(code.status is CodeStatus.ACTIVE for code in made)
        assert len(rig.simulator.sessions) == 5


async def test_operators_are_held_to_the_same_limits(tmp_path: Path) -> None:
    async with rigged(tmp_path, limits={"seller_codes_per_day": 1}) as rig:
        operator = await add_seller(rig.db, ADMIN, role=Role.OPERATOR, name="Operator", now=NOW)
        await rig.issuer.issue(operator, QRIS, "8:40")

        with pytest.raises(DailyLimitError):
            await rig.issuer.issue(operator, QRIS, "8:41")


async def test_two_requests_at_once_cannot_both_take_the_last_place(tmp_path: Path) -> None:
    async with rigged(tmp_path, limits={"seller_codes_per_day": 1}) as rig:
        outcomes = await asyncio.gather(
            rig.issuer.issue(rig.seller, va("BCA"), "8:50"),
            rig.issuer.issue(rig.seller, va("BCA"), "8:51"),
            return_exceptions=True,
        )

        assert sorted(type(outcome).__name__ for outcome in outcomes) == [
            "Code",
            "DailyLimitError",
        ]
        assert len(rig.simulator.sessions) == 1


async def test_a_range_80_percent_used_warns_the_operators_once(tmp_path: Path) -> None:
    woken: list[None] = []
    async with rigged(tmp_path, va_ranges="BNI=0000-0004") as rig:
        rig.db.add_outbox_listener(lambda: woken.append(None))
        for n in range(3):
            await rig.issuer.issue(rig.seller, va("BNI"), f"8:6{n}")
        assert await rig.db.outbox.count() == 0

        await rig.issuer.issue(rig.seller, va("BNI"), "8:63")  # the fourth of five: 80 %
        await rig.issuer.issue(rig.seller, va("BNI"), "8:64")

        warning = await rig.db.outbox.by_dedupe_key(f"alert:va_range_80:BNI:0-4:{ADMIN}")
        assert warning is not None and warning.chat_id == ADMIN
        expected = text(
            "id", "alert.va_range_filling", used=4, capacity=5, bank="BNI", percent=80, free=1
        )
        assert expected in warning.payload
        assert await rig.db.outbox.count() == 1
        assert len(woken) == 1  # after the commit that queued the warning


async def test_a_widened_range_gets_its_own_warning(tmp_path: Path) -> None:
    async with rigged(
        tmp_path, va_ranges="BNI=0000-0000", simulator_ranges="BNI=0000-0001"
    ) as rig:
        await rig.issuer.issue(rig.seller, va("BNI"), "8:70")
        wider = CodeIssuer(rig.db, rig.pivot, settings(pivot_va_ranges="BNI=0000-0001"))
        await wider.issue(rig.seller, va("BNI"), "8:71")

        assert await rig.db.outbox.by_dedupe_key(f"alert:va_range_80:BNI:0-0:{ADMIN}")
        assert await rig.db.outbox.by_dedupe_key(f"alert:va_range_80:BNI:0-1:{ADMIN}")


@pytest.mark.parametrize("processed", [True, False], ids=["answer-lost", "not-processed"])
async def test_pivot_down_leaves_pending_and_a_retry_makes_one_session(
    tmp_path: Path, processed: bool
) -> None:
    async with rigged(tmp_path) as rig:
        rig.simulator.fail_next("POST", "/v2/payments", status=503, processed=processed)
        with pytest.raises(PivotUnavailableError) as caught:
            await rig.issuer.issue(rig.seller, va("MANDIRI", 20_000), "7:80")
        assert caught.value.key == "error.pivot_down"
        pending = await rig.db.codes.find_by_request_key(SELLER, "7:80")
        assert pending is not None and pending.status is CodeStatus.PENDING
        assert len(rig.simulator.sessions) == (1 if processed else 0)

        code = await rig.issuer.issue(rig.seller, va("MANDIRI", 20_000), "7:80")

        assert code.id == pending.id and code.status is CodeStatus.ACTIVE
        [session] = rig.simulator.sessions.values()
        assert code.pivot_session_id == session.id
        assert (
            code.client_reference_id == session.client_reference_id == pending.client_reference_id
        )


@pytest.mark.parametrize(
    "draft",
    [QRIS.with_amount(None), va("BNI", 30_000)],
    ids=["qris-duplicate-reference", "va-number-taken-first"],
)
async def test_a_session_whose_answer_was_lost_a_day_ago_is_adopted(
    tmp_path: Path, draft: Draft
) -> None:
    clock = FakeClock()
    async with rigged(tmp_path, clock=clock) as rig:
        rig.simulator.fail_next("POST", "/v2/payments", status=503, processed=True)
        with pytest.raises(PivotUnavailableError):
            await rig.issuer.issue(rig.seller, draft, "7:85")
        # Pivot forgets the idempotency key after 24 h, never the reference (nor the number).
        clock.advance(24 * 3600 + 1)

        code = await rig.issuer.issue(rig.seller, draft, "7:85")

        [session] = rig.simulator.sessions.values()
        assert code.status is CodeStatus.ACTIVE
        assert (code.pivot_session_id, code.client_reference_id) == (
            session.id,
            session.client_reference_id,
        )
        assert await rig.db.codes.count_for_seller(SELLER) == 1  # no suffix burnt
        assert await rig.db.outbox.count() == 0  # nothing to tell the operators


async def test_a_reference_taken_by_no_session_of_ours_is_refused(tmp_path: Path) -> None:
    async with rigged(tmp_path) as rig:
        rig.simulator.fail_next("POST", "/v2/payments", status=409)

        with pytest.raises(PivotRejectedError):
            await rig.issuer.issue(rig.seller, QRIS.with_amount(None), "7:86")

        failed = await rig.db.codes.get(1)
        assert failed is not None and failed.status is CodeStatus.FAILED
        assert failed.failure == "rejected: 409 duplicate_error"


async def test_a_lookup_that_fails_leaves_the_code_pending(tmp_path: Path) -> None:
    async with rigged(tmp_path) as rig:
        rig.simulator.fail_next("POST", "/v2/payments", status=409)
        rig.simulator.fail_next("GET", "/v2/payments", status=503)

        with pytest.raises(PivotUnavailableError):
            await rig.issuer.issue(rig.seller, QRIS.with_amount(None), "7:87")

        pending = await rig.db.codes.get(1)
        assert pending is not None and pending.status is CodeStatus.PENDING


async def test_resume_finishes_a_pending_code_and_knows_nothing_else(tmp_path: Path) -> None:
    async with rigged(tmp_path) as rig:
        assert await rig.issuer.resume(rig.seller, "7:90") is None
        rig.simulator.fail_next("POST", "/v2/payments", status=429)
        with pytest.raises(PivotUnavailableError):
            await rig.issuer.issue(rig.seller, QRIS.with_amount(None), "7:90")

        code = await rig.issuer.resume(rig.seller, "7:90")

        assert code is not None and code.status is CodeStatus.ACTIVE
        assert len(rig.simulator.sessions) == 1


async def test_connection_refused_leaves_the_code_pending(tmp_path: Path) -> None:
    async with rigged(tmp_path) as rig:
        offline = PivotClient(
            client_id="sim-client-id",
            client_secret="sim-client-secret",
            base_url="http://127.0.0.1:9",  # discard port: nothing listens
            max_retries=0,
        )
        async with offline:
            issuer = CodeIssuer(rig.db, offline, settings())
            with pytest.raises(PivotUnavailableError):
                await issuer.issue(rig.seller, QRIS.with_amount(None), "7:95")

        pending = await rig.db.codes.find_by_request_key(SELLER, "7:95")
        assert pending is not None and pending.status is CodeStatus.PENDING
        assert (await rig.issuer.issue(rig.seller, QRIS, "7:95")).id == pending.id


async def test_double_issue_with_one_key_makes_one_code(tmp_path: Path) -> None:
    async with rigged(tmp_path) as rig:
        first, second = await asyncio.gather(
            rig.issuer.issue(rig.seller, va("BCA"), "7:100"),
            rig.issuer.issue(rig.seller, va("BCA"), "7:100"),
        )

        assert first == second
        assert len(rig.simulator.sessions) == 1
        assert await rig.db.codes.count_for_seller(SELLER) == 1


async def test_an_amount_pivot_would_refuse_is_refused_by_the_service_and_makes_nothing(
    tmp_path: Path,
) -> None:
    # The rule lives in the service, not in /new: an inline query, a link or another process
    # that issues a code gets the same answer.
    async with rigged(tmp_path) as rig:
        with pytest.raises(BelowMinimumError) as low:
            await rig.issuer.issue(rig.seller, va("BCA", 9_999), "7:120")
        with pytest.raises(AboveMaximumError) as high:
            await rig.issuer.issue(rig.seller, QRIS.with_amount(10_000_000), "7:121")

        assert low.value.values == {"kind": "VA BCA", "minimum": "Rp 10.000"}
        assert high.value.values == {"kind": "QRIS", "maximum": "Rp 9.999.999"}
        assert rig.simulator.sessions == {}
        assert await rig.db.codes.count_for_seller(SELLER) == 0
        assert await rig.issuer.amount_problem(CodeKind.VA, "BCA", 10_000) is None


async def test_an_active_code_is_returned_without_asking_pivot(tmp_path: Path) -> None:
    async with rigged(tmp_path) as rig:
        code = await rig.issuer.issue(rig.seller, QRIS.with_amount(None), "7:110")
        rig.simulator.fail_next("POST", "/v2/payments", status=503)

        again = await rig.issuer.issue(rig.seller, QRIS.with_amount(None), "7:110")

        assert again == code
        assert rig.simulator.take_failure("POST", "/v2/payments") is not None  # still armed


async def test_keys_are_per_seller(tmp_path: Path) -> None:
    async with rigged(tmp_path) as rig:
        other = await invited_seller(rig.db, 3001)
        mine = await rig.issuer.issue(rig.seller, QRIS.with_amount(None), "1:1")
        theirs = await rig.issuer.issue(other, QRIS.with_amount(None), "1:1")

        assert mine.id != theirs.id and theirs.seller_id == 3001


async def test_incomplete_drafts_are_a_programming_error(tmp_path: Path) -> None:
    async with rigged(tmp_path) as rig:
        for draft in (Draft(), Draft(kind=CodeKind.QRIS), Draft(kind=CodeKind.VA, customer="A")):
            with pytest.raises(ValueError, match="draft"):
                await rig.issuer.issue(rig.seller, draft, "7:120")
        with pytest.raises(ValueError, match="DANAMON"):
            await rig.issuer.issue(rig.seller, va("DANAMON"), "7:121")
        assert rig.simulator.sessions == {}


# Channels and limits


async def test_channels_and_limits_come_from_pivot(tmp_path: Path) -> None:
    configs = {
        "virtualAccount": {
            "enabled": True,
            "acceptedChannels": ["BRI", "DANAMON", "bca", "BRI"],
            "minimumAmount": {"value": 20000, "currency": "IDR"},
            "maximumAmount": {"value": 5000000, "currency": "IDR"},
        },
        "qr": {"enabled": True, "minimumAmount": {"value": 1500, "currency": "IDR"}},
    }
    async with rigged(tmp_path, payment_method_configs=configs) as rig:
        # DANAMON has no static VA rule here, so it cannot be offered.
        assert await rig.issuer.channels() == ("BRI", "BCA")
        assert await rig.issuer.limits(CodeKind.VA) == (20_000, 5_000_000)
        assert await rig.issuer.limits(CodeKind.QRIS) == (1_500, 9_999_999)
        # ... and the operators are told once how to offer it.
        assert await rig.issuer.channels() == ("BRI", "BCA")
        alert = await rig.db.outbox.by_dedupe_key(f"alert:va_no_rule:DANAMON:{ADMIN}")
        assert alert is not None and "PIVOT_VA_RANGES" in alert.payload
        assert await rig.db.outbox.count() == 1


async def test_a_channel_given_a_range_is_offered(tmp_path: Path) -> None:
    configs = {"virtualAccount": {"enabled": True, "acceptedChannels": ["DANAMON", "BCA"]}}
    async with rigged(
        tmp_path, va_ranges="DANAMON=0000-0099", payment_method_configs=configs
    ) as rig:
        assert await rig.issuer.channels() == ("DANAMON", "BCA")
        code = await rig.issuer.issue(rig.seller, va("DANAMON"), "7:130")

        assert code.status is CodeStatus.ACTIVE and code.va_suffix == 0
        assert await rig.db.outbox.count() == 0


async def test_configs_are_cached(tmp_path: Path) -> None:
    async with rigged(tmp_path) as rig:
        clock = [0.0]
        rig.issuer._clock = lambda: clock[0]
        assert await rig.issuer.limits(CodeKind.VA) == (10_000, 9_999_999_999)
        rig.simulator.fail_next("GET", "/v2/payment-method-configs", status=503)

        await rig.issuer.channels()
        assert rig.simulator.take_failure("GET", "/v2/payment-method-configs") is not None

        rig.simulator.fail_next("GET", "/v2/payment-method-configs", status=503)
        clock[0] = 601.0  # past the cache: Pivot is asked again
        await rig.issuer.channels()
        assert rig.simulator.take_failure("GET", "/v2/payment-method-configs") is None


async def test_channels_fall_back_to_settings_when_pivot_is_down(tmp_path: Path) -> None:
    async with rigged(tmp_path) as rig:
        issuer = CodeIssuer(rig.db, rig.pivot, settings(pivot_va_channels="BNI, bri, DANAMON"))
        rig.simulator.fail_next("GET", "/v2/payment-method-configs", status=500)

        assert await issuer.channels() == ("BNI", "BRI")
        assert await issuer.limits(CodeKind.QRIS) == (1_000, 9_999_999)


async def test_disabled_va_offers_no_channel(tmp_path: Path) -> None:
    configs = {"virtualAccount": {"enabled": False, "acceptedChannels": ["BCA"]}}
    async with rigged(tmp_path, payment_method_configs=configs) as rig:
        assert await rig.issuer.channels() == ()
