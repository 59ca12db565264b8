"""The payment provider: whoever actually moves the money.

Services talk to it through the small `PaymentProvider` interface only, and the one
in use is named by the `PAYMENT_PROVIDER` setting (a dotted path), so a real
provider's adapter can replace the simulated one without touching services.py.

Every call carries an idempotency key, as real providers (Stripe's
`Idempotency-Key`) accept: repeating a call with the same key returns the first
answer instead of charging or refunding again. The payment service relies on that
to ask again about a call whose answer a crash lost (see services.py).
"""

import os
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

DEFAULT_PROVIDER = "payments.providers.SimulatedProvider"


@dataclass(frozen=True)
class ChargeResult:
    succeeded: bool
    # The provider's id of the charge; a declined card still has one, an unusable token does not.
    reference: str = ""
    # Why it was declined, in the provider's words (e.g. "card_declined"); empty on success.
    failure_reason: str = ""


@dataclass(frozen=True)
class RefundResult:
    succeeded: bool
    reference: str = ""
    failure_reason: str = ""


class PaymentProvider(Protocol):
    def charge(self, *, amount: Decimal, currency: str, token: str, idempotency_key: str) -> ChargeResult:
        """Charge `amount` to what `token` stands for. A decline is a result, not an
        exception; an exception means the provider could not be asked (retry later)."""
        ...

    def refund(self, *, reference: str, amount: Decimal, idempotency_key: str) -> RefundResult:
        """Give back `amount` of the charge `reference`."""
        ...


class IdempotencyKeyReused(ValueError):
    """The same idempotency key with different parameters: a caller's bug, as Stripe says it."""


def get_provider() -> PaymentProvider:
    """The provider named by `settings.PAYMENT_PROVIDER`, read at call time so tests
    and deployments can switch it."""
    return import_string(getattr(settings, "PAYMENT_PROVIDER", DEFAULT_PROVIDER))()


@dataclass(frozen=True)
class LedgerEntry:
    """One operation the simulated provider performed, as its ledger keeps it."""

    idempotency_key: str
    kind: str  # "charge" or "refund"
    amount: Decimal
    currency: str
    token: str
    charge_reference: str  # for a refund: the charge it gives back
    succeeded: bool
    reference: str
    failure_reason: str
    created_at: str


_SCHEMA = """
CREATE TABLE IF NOT EXISTS operations (
    idempotency_key TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('charge', 'refund')),
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    token TEXT NOT NULL,
    charge_reference TEXT NOT NULL,
    succeeded INTEGER NOT NULL,
    reference TEXT NOT NULL,
    failure_reason TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS operations_by_reference ON operations (reference);
CREATE UNIQUE INDEX IF NOT EXISTS one_refund_per_charge
    ON operations (charge_reference) WHERE kind = 'refund' AND succeeded = 1;
"""
_COLUMNS = (
    "idempotency_key, kind, amount, currency, token, charge_reference, succeeded, reference, failure_reason, created_at"
)


def ledger_path() -> Path:
    return Path(settings.SIMULATED_PROVIDER_LEDGER)


def read_ledger(path: str | Path | None = None) -> list[LedgerEntry]:
    """Every operation of the simulated provider, oldest first: what a real provider's
    dashboard would show. Used by tests to compare the money with the payments."""
    path = Path(path) if path is not None else ledger_path()
    if not path.exists():
        return []
    with closing(sqlite3.connect(path, timeout=20)) as db:
        rows = db.execute(f"SELECT {_COLUMNS} FROM operations ORDER BY created_at, rowid").fetchall()
    return [_entry(row) for row in rows]


def _entry(row) -> LedgerEntry:
    key, kind, amount, currency, token, charge_reference, succeeded, reference, reason, created_at = row
    return LedgerEntry(
        key, kind, Decimal(amount), currency, token, charge_reference, bool(succeeded), reference, reason, created_at
    )


class SimulatedProvider:
    """A provider that moves no money, answering Stripe's test tokens the way Stripe does.

    `tok_visa`, `tok_mastercard` and `tok_amex` are charged; `tok_chargeDeclined` is
    declined as `card_declined`, `tok_chargeDeclinedInsufficientFunds` as
    `insufficient_funds`; any other token is refused as `invalid_token`.

    It is an external system, as a real provider is: its ledger is its own SQLite file
    (`SIMULATED_PROVIDER_LEDGER`, under the state directory by default), written with
    the `sqlite3` module in transactions of its own, never the payment service's. What
    it did stays done when the caller's transaction rolls back or its process dies,
    which is exactly what the payment service has to cope with. The idempotency key is
    the ledger's primary key: one operation per key, whichever process asks.
    """

    CHARGEABLE_TOKENS = frozenset({"tok_visa", "tok_mastercard", "tok_amex"})
    DECLINED_TOKENS = {
        "tok_chargeDeclined": "card_declined",
        "tok_chargeDeclinedInsufficientFunds": "insufficient_funds",
    }

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else ledger_path()

    def charge(self, *, amount: Decimal, currency: str, token: str, idempotency_key: str) -> ChargeResult:
        with self._ledger() as db:
            previous = self._previous(db, idempotency_key, kind="charge", amount=amount, token=token)
            if previous is not None:
                return ChargeResult(previous.succeeded, previous.reference, previous.failure_reason)
            if token in self.CHARGEABLE_TOKENS:
                result = ChargeResult(True, _reference("ch"))
            elif token in self.DECLINED_TOKENS:
                result = ChargeResult(False, _reference("ch"), self.DECLINED_TOKENS[token])
            else:
                result = ChargeResult(False, "", "invalid_token")
            self._store(db, idempotency_key, "charge", amount, currency, token, "", result)
            return result

    def refund(self, *, reference: str, amount: Decimal, idempotency_key: str) -> RefundResult:
        with self._ledger() as db:
            previous = self._previous(db, idempotency_key, kind="refund", amount=amount, charge_reference=reference)
            if previous is not None:
                return RefundResult(previous.succeeded, previous.reference, previous.failure_reason)
            charge = db.execute(
                f"SELECT {_COLUMNS} FROM operations WHERE kind = 'charge' AND succeeded = 1 AND reference = ?",
                (reference,),
            ).fetchone()
            charge = _entry(charge) if charge else None
            refunded = db.execute(
                "SELECT 1 FROM operations WHERE kind = 'refund' AND succeeded = 1 AND charge_reference = ?",
                (reference,),
            ).fetchone()
            if charge is None:
                result = RefundResult(False, "", "charge_not_found")
            elif refunded:
                result = RefundResult(False, "", "charge_already_refunded")
            elif amount > charge.amount:
                result = RefundResult(False, "", "amount_too_large")
            else:
                result = RefundResult(True, _reference("re"))
            self._store(db, idempotency_key, "refund", amount, charge.currency if charge else "", "", reference, result)
            return result

    def _ledger(self):
        """A connection in one IMMEDIATE transaction: each operation looks up its key and
        records its answer with no other writer in between (web and worker processes,
        and their threads, share the file)."""
        return _ledger_transaction(self.path)

    @staticmethod
    def _previous(db, idempotency_key: str, *, kind: str, amount: Decimal, token: str = "", charge_reference: str = ""):
        row = db.execute(f"SELECT {_COLUMNS} FROM operations WHERE idempotency_key = ?", (idempotency_key,)).fetchone()
        if row is None:
            return None
        previous = _entry(row)
        if (previous.kind, previous.amount, previous.token, previous.charge_reference) != (
            kind,
            amount,
            token,
            charge_reference,
        ):
            raise IdempotencyKeyReused(f"idempotency key {idempotency_key!r} was used for a different request")
        return previous

    @staticmethod
    def _store(db, idempotency_key, kind, amount, currency, token, charge_reference, result) -> None:
        db.execute(
            f"INSERT INTO operations ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                idempotency_key,
                kind,
                str(amount),
                currency,
                token,
                charge_reference,
                int(result.succeeded),
                result.reference,
                result.failure_reason,
                datetime.now(UTC).isoformat(),
            ),
        )


@contextmanager
def _ledger_transaction(path: Path) -> Iterator[sqlite3.Connection]:
    db = _ledger_connection(path)
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:  # the connection serves this thread's next operation
            db.execute("ROLLBACK")
        raise


#: Each thread's open ledger connection, as (path, connection, identity).
_open = threading.local()


def _ledger_connection(path: Path) -> sqlite3.Connection:
    """This thread's connection to the ledger at `path`, opened (and the schema made)
    once, as a provider's client keeps its connections; opening one and running the
    schema script cost more than the charge itself. A connection to another path, or
    whose file was replaced or removed since (a test's, a wiped state directory), is
    closed, and one that a forked child inherited dropped; the file at `path` is
    then opened afresh."""
    kept = getattr(_open, "ledger", None)
    if kept is not None:
        kept_path, db, identity = kept
        if kept_path == path and _file_identity(path) == identity:
            return db
        if identity is not None and identity[0] == os.getpid():  # a parent's connection is the parent's to close
            db.close()
        _open.ledger = None
    path.parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None: autocommit, so that the one transaction is the one begun
    # by _ledger_transaction, with none of the sqlite3 module's implicit ones.
    db = sqlite3.connect(path, timeout=20, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(_SCHEMA)
    _open.ledger = (path, db, _file_identity(path))
    return db


def _file_identity(path: Path) -> tuple[int, int, int] | None:
    """This process and the file's (device, inode); None when there is no file."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return os.getpid(), stat.st_dev, stat.st_ino


def _reference(prefix: str) -> str:
    return f"{prefix}_sim_{uuid.uuid4().hex}"
