"""``kodebayar run``: the whole bot in one process and one event loop.

python-telegram-bot runs with a manual lifecycle (long polling, or webhook updates fed by our
own route) next to uvicorn serving ``bot.web``, the notification relay and reconciliation.
Start-up order is chosen so that money is never refused: the database and the callback route
come first (a callback needs nothing from Telegram), then Telegram, then the relay. Shutdown
runs the other way round and leaves nothing half-written.

Several processes may share a PostgreSQL database (``bot.leadership``): what every process
runs is started by ``start`` (the database, HTTP, look-ups, the credential check), what only
the leader runs by ``_lead``, once this process holds the lease (Telegram, the relay,
confirmation, reconciliation's passes, expiry warnings). On SQLite that is at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import sys
from typing import Any

from telegram import Update
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import Application, ApplicationBuilder

from bot.buyers import Buyers
from bot.cards import CardPhotos
from bot.clock import utcnow
from bot.codebook import Codebook
from bot.codes import CodeIssuer
from bot.confirm import CONFIRM_GRACE, Confirmer
from bot.context import CONTEXT_TYPES, SERVICES_KEY
from bot.expiry import ExpiryWatch
from bot.handlers import USER_DATA, publish_commands, register
from bot.inline_check import InlineStatus, inline_status
from bot.leadership import EXIT_LEASE_LOST, Leadership, Role
from bot.ledger import CONFIRM_WITHIN, Ledger, Unconfirmed
from bot.logs import configure_logging
from bot.persistence import DatabasePersistence, PersistingApplication
from bot.pivot_check import CredentialCheck
from bot.reconcile import LookupQueue, Reconciler
from bot.relay import Relay
from bot.reports import Reports
from bot.sellers import Sellers
from bot.sending import Sender
from bot.server import EmbeddedServer
from bot.services import Services
from bot.settings import Settings
from bot.updates import PerPersonUpdates
from bot.web import create_web_app
from pivot_client import PivotClient
from storage import Database, DatabaseUnreachableError, StorageError, describe_database

__all__ = ["Runtime", "StartupError", "run"]

logger = logging.getLogger(__name__)

AnyApplication = Application[Any, Any, Any, Any, Any, Any]

# Whatever is still running after this long at shutdown is abandoned (issue: within 10 s).
SHUTDOWN_SECONDS = 9.0
NO_OPERATORS = (
    "ADMIN_TELEGRAM_IDS is empty: nobody can /invite sellers, so nobody can use the bot. "
    "Message the bot from your own Telegram account: the refusal shows your id. Put it in "
    "ADMIN_TELEGRAM_IDS and restart."
)


class StartupError(Exception):
    """The bot cannot start; the message is one line for the operator, without secrets."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Runtime:
    """Every long-lived part of the bot, started and stopped in the right order.

    ``confirm_within`` and ``confirm_grace`` (seconds) are for tests: how long a payment
    message waits for Pivot's confirmation, and how long Pivot may take to list a charge.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        sender: Sender | None = None,
        confirm_within: float = CONFIRM_WITHIN,
        confirm_grace: float = CONFIRM_GRACE,
    ) -> None:
        self.settings = settings
        self._sender = sender or Sender()
        self._confirm_within = confirm_within
        self._confirm_grace = confirm_grace
        self._stopping = asyncio.Event()
        self._db: Database | None = None
        self._pivot: PivotClient | None = None
        self._pivot_check: CredentialCheck | None = None
        self._application: AnyApplication | None = None
        self._server: EmbeddedServer | None = None
        self._relay: Relay | None = None
        self._ledger: Ledger | None = None
        self._reconciler: Reconciler | None = None
        self._expiry: ExpiryWatch | None = None
        self._confirmer: Confirmer | None = None
        self._persistence: DatabasePersistence | None = None
        self._leadership: Leadership | None = None
        self._telegram_ready = False
        self._inline = InlineStatus.UNKNOWN

    @property
    def services(self) -> Services:
        """The services handed to the handlers (after ``start``)."""
        assert self._application is not None, "start() first"  # noqa: S101 - programming error
        services: Services = self._application.bot_data[SERVICES_KEY]
        return services

    @property
    def http_url(self) -> str:
        """Where the HTTP routes are served (after ``start``)."""
        assert self._server is not None, "start() first"  # noqa: S101 - programming error
        return self._server.url

    @property
    def webhook_mode(self) -> bool:
        """Whether Telegram pushes updates to ``/telegram/webhook``."""
        return self.settings.telegram_webhook_url is not None

    @property
    def role(self) -> Role:
        """Whether this process holds the Telegram side."""
        return self._leadership.role if self._leadership is not None else Role.FOLLOWER

    async def start(self) -> None:
        """Open the database and serve callbacks, then wait for the lease in the background:
        the leader's part starts once this process holds it (``leading``)."""
        settings = self.settings
        if not settings.admin_telegram_ids:
            logger.warning(NO_OPERATORS)
        self._db = db = await self._open_database()
        self._pivot = pivot = PivotClient(
            client_id=settings.pivot_client_id,
            client_secret=settings.pivot_client_secret.get_secret_value(),
            base_url=str(settings.pivot_base_url),
        )
        # Every process asks Pivot (look-ups): each checks the credentials it uses.
        self._pivot_check = CredentialCheck(pivot)
        self._pivot_check.start()
        self._persistence = persistence = DatabasePersistence(db, USER_DATA)
        self._application = application = self._build_application(persistence)
        lease = db.lease()
        self._relay = relay = Relay(db, application.bot, settings.admin_telegram_ids, lease=lease)
        lookups = LookupQueue()
        self._confirmer = Confirmer(
            db, pivot, settings.admin_telegram_ids, grace=self._confirm_grace
        )
        self._ledger = ledger = Ledger(
            db,
            settings.admin_telegram_ids,
            look_up=lookups.request,
            confirm=self._confirm,
            confirm_within=self._confirm_within,
        )
        codes = CodeIssuer(db, pivot, settings)
        codebook = Codebook(db, codes, CardPhotos(application.bot))
        application.bot_data[SERVICES_KEY] = Services(
            settings=settings,
            db=db,
            pivot=pivot,
            codes=codes,
            codebook=codebook,
            reports=Reports(db),
            relay=relay,
            sellers=Sellers(db, operators=settings.admin_telegram_ids, timezone=settings.timezone),
            buyers=Buyers(db, codebook),
        )
        register(application)
        persistence.expect(handler for group in application.handlers.values() for handler in group)
        self._reconciler = Reconciler(
            db, pivot, ledger, interval=settings.reconcile_interval_seconds, lookups=lookups
        )
        # A callback that needs a look-up is looked up where it arrived: the ledger's hand-over
        # stays within the process.
        self._reconciler.start_lookups()
        await self._serve_http(ledger)
        self._leadership = Leadership(lease, self._lead, self._step_down)
        self._leadership.start()
        # Everything made so far lives as long as the process: keep it out of the collector's
        # full passes, which walked all ~75,000 of those objects in ~30 ms, stalling whatever
        # the loop was doing (measured in a busy /today, BENCHMARKS.md).
        gc.freeze()
        logger.info(
            "Kodebayar takes Pivot callbacks on %s, database %s",
            self.http_url,
            self._database_name,
        )

    async def leading(self) -> None:
        """Return once this process holds the Telegram side (after ``start``; on SQLite at
        once); raise what stopped the leader's part from starting."""
        assert self._leadership is not None, "start() first"  # noqa: S101 - programming error
        await self._leadership.leading()

    async def lease_lost(self) -> None:
        """Return once this process lost the lease and stopped its Telegram side; raise what
        stopped the leader's part from starting."""
        assert self._leadership is not None, "start() first"  # noqa: S101 - programming error
        await self._leadership.ended()

    async def _lead(self) -> None:
        """Start the leader's part: Telegram, the relay, confirmation, reconciliation's
        passes and expiry warnings."""
        assert self._application is not None  # noqa: S101 - set by start
        assert self._db is not None and self._relay is not None  # noqa: S101 - set by start
        assert self._confirmer is not None and self._reconciler is not None  # noqa: S101
        settings = self.settings
        await self._start_telegram(self._application)
        await self._relay.start()
        self._confirmer.start()
        self._reconciler.start_passes()
        # Expiry warnings are looked for as often as reconciliation runs: a few minutes
        # matter little against a three-day warning.
        self._expiry = ExpiryWatch(self._db, interval=settings.reconcile_interval_seconds)
        self._expiry.start()
        gc.freeze()
        logger.info(
            "Kodebayar is running: Telegram by %s, HTTP on %s, database %s",
            "webhook" if self.webhook_mode else "long polling",
            self.http_url,
            self._database_name,
        )

    def _step_down(self) -> None:
        """The lease is lost: write nothing more as the leader (another process may lead)."""
        self._telegram_ready = False
        if self._persistence is not None:
            self._persistence.close()
        if self._relay is not None:
            self._relay.abandon()

    def _confirm(self, charges: list[Unconfirmed]) -> None:
        """Hand charges just recorded to the confirmer, if it runs here; on a follower the
        leader's confirmer takes them up from the database."""
        if self._confirmer is not None and self._confirmer.running:
            self._confirmer.request(charges)

    @property
    def _database_name(self) -> str:
        """The database, for logs and errors, without its password."""
        return describe_database(self.settings.database_target)

    async def _open_database(self) -> Database:
        """Open the database, retrying a server that does not answer; anything else is fatal."""
        settings = self.settings
        delay = 1.0
        while True:
            try:
                return await Database.open(settings.database_target)
            except DatabaseUnreachableError as exc:
                logger.warning("cannot reach the database (%s); retrying in %.0f s", exc, delay)
            except (StorageError, OSError) as exc:
                raise StartupError(
                    f"{settings.database_variable}: cannot open {self._database_name}: {exc}",
                    exit_code=2,
                ) from None
            await self._retry_after(delay, "the database")
            delay = min(delay * 2, 60.0)

    async def _retry_after(self, delay: float, what: str) -> None:
        """Wait ``delay`` seconds before trying ``what`` again, unless stopped meanwhile."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), delay)
        if self._stopping.is_set():
            raise StartupError(f"stopped before {what} could be reached") from None

    def _build_application(self, persistence: DatabasePersistence) -> AnyApplication:
        root = str(self.settings.telegram_api_url).rstrip("/")
        builder = (
            ApplicationBuilder()
            .application_class(PersistingApplication)
            .persistence(persistence)
            .token(self.settings.telegram_bot_token.get_secret_value())
            .base_url(f"{root}/bot")
            .base_file_url(f"{root}/file/bot")
            .context_types(CONTEXT_TYPES)
            .rate_limiter(self._sender)
            .concurrent_updates(PerPersonUpdates())
        )
        if self.webhook_mode:
            builder = builder.updater(None)
        return builder.build()

    async def _serve_http(self, ledger: Ledger) -> None:
        settings = self.settings
        secret = settings.telegram_webhook_secret
        app = create_web_app(
            callback_key=settings.pivot_callback_api_key.get_secret_value(),
            record_callback=ledger.record_callback,
            health=self.health,
            webhook_secret=secret.get_secret_value() if secret else None,
            put_update=self._put_update if self.webhook_mode else None,
        )
        try:
            self._server = EmbeddedServer(app, host=settings.http_host, port=settings.http_port)
        except OSError as exc:
            raise StartupError(
                f"HTTP_PORT: cannot listen on {settings.http_host}:{settings.http_port}: "
                f"{exc.strerror}",
                exit_code=2,
            ) from None
        await self._server.start()

    async def updates_handled(self) -> None:
        """Return once every update received so far has been handled (after ``start``)."""
        assert self._application is not None, "start() first"  # noqa: S101 - programming error
        await self._application.update_queue.join()

    async def _put_update(self, data: dict[str, Any]) -> bool:
        """Queue a webhook update; False on a follower, which does not handle updates."""
        assert self._application is not None  # noqa: S101 - the route exists only after start
        if self.role is not Role.LEADER:
            return False
        await self._application.update_queue.put(Update.de_json(data, self._application.bot))
        return True

    async def _start_telegram(self, application: AnyApplication) -> None:
        """Connect to Telegram, retrying while it cannot be reached; a bad token is fatal."""
        delay = 1.0
        while True:
            try:
                await application.initialize()
                break
            except InvalidToken:
                raise StartupError(
                    "TELEGRAM_BOT_TOKEN: Telegram refused this token; copy it again from "
                    "@BotFather",
                    exit_code=2,
                ) from None
            except NetworkError as exc:
                logger.warning("cannot reach Telegram (%s); retrying in %.0f s", exc, delay)
                await self._retry_after(delay, "Telegram")
                delay = min(delay * 2, 60.0)
        self._inline = inline_status(application.bot)
        try:
            await publish_commands(application.bot)
        except TelegramError as exc:  # a menu is a nicety: never a reason not to start
            logger.warning("could not publish the command menu: %s", exc)
        allowed = Update.ALL_TYPES
        if self.webhook_mode:
            secret = self.settings.telegram_webhook_secret
            await application.bot.set_webhook(
                str(self.settings.telegram_webhook_url),
                secret_token=secret.get_secret_value() if secret else None,
                allowed_updates=allowed,
            )
        else:
            assert application.updater is not None  # noqa: S101 - built with one in polling mode
            await application.updater.start_polling(allowed_updates=allowed)
        await application.start()
        self._telegram_ready = True

    async def stop(self) -> None:
        """Stop taking updates and callbacks, finish what is in flight, give the lease up,
        close the database."""
        self._stopping.set()
        self._telegram_ready = False
        if self._leadership is not None:
            await self._leadership.cancel()  # no more waiting for the lease, or starting to lead
        application = self._application
        if application is not None and application.updater and application.updater.running:
            await application.updater.stop()
        if self._server is not None:
            await self._server.stop()  # lets callback transactions in flight commit
        if application is not None and application.running:
            await application.stop()
        if self._reconciler is not None:
            await self._reconciler.stop()
        if self._expiry is not None:
            await self._expiry.stop()
        if self._confirmer is not None:
            await self._confirmer.stop()
        if self._pivot_check is not None:
            await self._pivot_check.stop()
        if self._relay is not None and self._relay.running:
            await self._relay.stop()
        if self._leadership is not None:
            # Only now: the next leader must find the state this one wrote at stop().
            await self._leadership.release()
        if application is not None:
            await application.shutdown()
        if self._pivot is not None:
            await self._pivot.close()
        if self._db is not None:
            await self._db.close()
        logger.info("Kodebayar stopped")

    async def health(self) -> tuple[bool, dict[str, Any]]:
        """Readiness and the figures an operator looks at first.

        A follower is ready when it can record callbacks: the load balancer keeps sending it
        Pivot's, and the leader's parts are reported by the leader alone.
        """
        report: dict[str, Any] = {"role": self.role.value}
        database_ok = False
        if self._db is not None:
            try:
                await self._db.ping()
                report["pending_outbox"] = await self._db.outbox.pending_count()
                last = await self._db.inbox.last_received_at()
                report["last_callback_at"] = last.isoformat() if last else None
                database_ok = True
            except Exception as exc:
                report["database_error"] = type(exc).__name__
        relay, reconciler, confirmer = self._relay, self._reconciler, self._confirmer
        report["database"] = "ok" if database_ok else "unavailable"
        # Informative only: refused credentials do not make the bot unready (see README).
        if self._pivot_check is not None:
            report["pivot"] = self._pivot_check.status.value
        if self.role is Role.FOLLOWER:
            looking_up = reconciler is not None and reconciler.looking_up
            report["lookups"] = "running" if looking_up else "stopped"
            return self._verdict(report, ready=database_ok and looking_up)
        report["telegram"] = "ok" if self._telegram_ready else "not connected"
        report["relay"] = _relay_state(relay)
        report["reconciliation"] = "running" if reconciler and reconciler.running else "stopped"
        report["confirmation"] = "running" if confirmer and confirmer.running else "stopped"
        if confirmer is not None:
            report["awaiting_confirmation"] = confirmer.waiting
        report["inline"] = self._inline.value  # informative too: sharing needs it, money not
        if reconciler and reconciler.last_pass:
            report["last_reconciliation"] = {
                "checked": reconciler.last_pass.checked,
                "found": reconciler.last_pass.found,
            }
        ready = (
            database_ok
            and self._telegram_ready
            and report["relay"] == "running"
            and report["reconciliation"] == "running"
            and report["confirmation"] == "running"
        )
        return self._verdict(report, ready=ready)

    @staticmethod
    def _verdict(report: dict[str, Any], *, ready: bool) -> tuple[bool, dict[str, Any]]:
        """``report`` with its status and time."""
        report["status"] = "ok" if ready else "not ready"
        report["time"] = utcnow().isoformat()
        return ready, report


def _relay_state(relay: Relay | None) -> str:
    if relay is None or not relay.running:
        return "stopped"
    return "degraded" if relay.recovering else "running"


def run(settings: Settings) -> int:
    """Run until SIGTERM or SIGINT; the process's exit code."""
    configure_logging(settings.log_level_number, settings.secrets())
    try:
        return asyncio.run(_serve(settings))
    except StartupError as exc:
        print(f"kodebayar: {exc}", file=sys.stderr)
        return exc.exit_code


async def _serve(settings: Settings) -> int:
    stop = asyncio.Event()

    def on_signal() -> None:
        if stop.is_set():
            logger.warning("second signal: exiting now")
            os._exit(1)
        logger.info("stopping (a second signal exits at once)")
        stop.set()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal)
    runtime = Runtime(settings)
    start = asyncio.create_task(runtime.start())
    stopped = asyncio.create_task(stop.wait())
    lost: asyncio.Task[None] | None = None
    try:
        done, _ = await asyncio.wait({start, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if start in done:
            start.result()  # a start-up error ends the process here
            lost = asyncio.create_task(runtime.lease_lost())
            done, _ = await asyncio.wait({lost, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if lost in done:
                lost.result()  # so does an error starting the leader's part
                return EXIT_LEASE_LOST
    finally:
        stopped.cancel()
        if lost is not None:
            lost.cancel()
        if not start.done():
            start.cancel()
            with contextlib.suppress(asyncio.CancelledError, StartupError):
                await start
        try:
            await asyncio.wait_for(runtime.stop(), SHUTDOWN_SECONDS)
        except TimeoutError:
            logger.error("shutdown took over %.0f s; exiting anyway", SHUTDOWN_SECONDS)
    return 0
