"""Who may open the cart's page: a token, sessions, CSRF tokens and a brake on guessing.

The cart sits on a library's shared Wi-Fi, so every page and action asks for
the token set at install (``[web] token`` in the 0600 credentials file) or,
failing that, one the cart makes up once and keeps in its state directory
(mode 0600, for ``sudo cat``). At the cart itself a six-digit PIN shown on its
screen does as well: it opens one session, within two minutes, and only the
last one shown works. A right token or PIN gives a session cookie
(HttpOnly, SameSite=Strict); every form carries the session's CSRF token and
a POST without it is refused. Failed logins are counted per address and for
the whole cart, and past a few the door stays shut for a while: an eight
character token cannot be guessed at a few tries a minute.
"""

from __future__ import annotations

import hmac
import secrets
import stat
import threading
import time
import tomllib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kiosk.exc import CredentialsError
from kiosk.fileio import atomic_write

#: Name of the token file the cart makes when the credentials file has none.
TOKEN_FILE = "web-token"  # noqa: S105 (a file name)
#: How long a login lasts (a working day and then some).
SESSION_S = 14 * 3600.0
#: Failed logins allowed per address, and for the whole cart, within WINDOW_S.
PER_ADDRESS = 5
OVERALL = 20
WINDOW_S = 300.0
COOKIE = "kiosk_session"
#: How long a PIN shown on the cart's screen lets one person in.
PIN_S = 120.0
PIN_DIGITS = 6


def load_token(credentials_file: Path | str, state_dir: Path) -> tuple[str, str]:
    """The page token and where it came from (a path for the log, never the token).

    :raises CredentialsError: the credentials file is readable by others, or
        its ``[web] token`` is not a string of at least 8 characters.
    """
    path = Path(credentials_file) if credentials_file else None
    if path is not None and path.exists():
        token = _from_credentials(path)
        if token is not None:
            return token, str(path)
    made = state_dir / TOKEN_FILE
    if made.exists():
        token = made.read_text(encoding="ascii").strip()
        if len(token) >= 8:
            return token, str(made)
    token = new_token()
    atomic_write(made, [token.encode("ascii") + b"\n"], mode=0o600)
    return token, str(made)


def new_token() -> str:
    """Ten characters a person can type on a phone (no 0/O, 1/l look-alikes)."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(10))


def _from_credentials(path: Path) -> str | None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise CredentialsError(
            f"credentials file {path} is readable by others (mode {mode:04o}); "
            f"refusing to use it. Fix: chmod 600 {path}"
        )
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise CredentialsError(f"cannot read credentials file {path}: {e}") from None
    web = data.get("web")
    if web is None:
        return None
    token = web.get("token") if isinstance(web, dict) else None
    if not isinstance(token, str) or len(token.strip()) < 8:
        raise CredentialsError(
            f"credentials file {path}: [web] token must be a string of at least 8 characters"
        )
    return token.strip()


@dataclass
class Session:
    csrf: str
    expires: float


class Gate:
    """Checks the token, hands out sessions, and counts failed logins.

    :param clock: monotonic seconds (tests move it by hand).
    """

    def __init__(self, token: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._token = token.encode()
        self._clock = clock
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}
        self._failed: dict[str, deque[float]] = {}
        self._failed_all: deque[float] = deque()
        self._pin: tuple[bytes, float] | None = None  # (PIN, valid until)

    # -- logging in --------------------------------------------------------------
    def wait_s(self, address: str) -> float:
        """Seconds this address must wait before it may try again (0: it may try now)."""
        with self._lock:
            now = self._clock()
            self._expire(now)
            tries = self._failed.get(address, deque())
            waits = [0.0]
            if len(tries) >= PER_ADDRESS:
                waits.append(tries[-PER_ADDRESS] + WINDOW_S - now)
            if len(self._failed_all) >= OVERALL:
                waits.append(self._failed_all[-OVERALL] + WINDOW_S - now)
            return max(waits)

    def issue_pin(self) -> str:
        """A new PIN to show on the cart's screen; the one shown before stops working.

        Guessing stays hopeless under the brake: at most :data:`OVERALL` tries
        in a PIN's two minutes, against a million PINs.
        """
        pin = f"{secrets.randbelow(10**PIN_DIGITS):0{PIN_DIGITS}d}"
        with self._lock:
            self._pin = (pin.encode(), self._clock() + PIN_S)
        return pin

    def login(self, address: str, token: str) -> str | None:
        """A new session id for the right token or PIN; ``None`` (and one more failure) otherwise.

        A PIN is used up by the login it opens.
        """
        if self.wait_s(address) > 0:
            return None
        right = hmac.compare_digest(token.strip().encode(), self._token)
        with self._lock:
            now = self._clock()
            if not right and self._pin is not None and self._pin[1] > now:
                typed = "".join(token.split()).encode()  # "482 913" as the screen groups it
                if hmac.compare_digest(typed, self._pin[0]):
                    right, self._pin = True, None
            if right:
                sid = secrets.token_urlsafe(32)
                self._sessions[sid] = Session(secrets.token_urlsafe(24), now + SESSION_S)
                return sid
        with self._lock:
            now = self._clock()
            self._failed.setdefault(address, deque()).append(now)
            self._failed_all.append(now)
        return None

    def _expire(self, now: float) -> None:
        for tries in (*self._failed.values(), self._failed_all):
            while tries and tries[0] + WINDOW_S <= now:
                tries.popleft()
        for address in [a for a, t in self._failed.items() if not t]:
            del self._failed[address]

    # -- sessions ----------------------------------------------------------------
    def session(self, sid: str | None) -> Session | None:
        if not sid:
            return None
        with self._lock:
            s = self._sessions.get(sid)
            if s is not None and s.expires <= self._clock():
                del self._sessions[sid]
                return None
            return s

    def logout(self, sid: str | None) -> None:
        with self._lock:
            self._sessions.pop(sid or "", None)

    @staticmethod
    def csrf_ok(session: Session, sent: str) -> bool:
        return hmac.compare_digest(session.csrf.encode(), sent.encode())
