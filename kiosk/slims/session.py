"""One logged-in admin session with SLiMS: HTTP, retries, TLS, login and re-login.

The kiosk logs in through SLiMS's login form, as a browser would, and keeps
the ``SenayanAdmin`` cookie in one keep-alive ``requests`` session. Networks
on a library floor drop out, so connection errors, timeouts and 5xx answers
are retried with growing pauses before SLiMS counts as unreachable.

A lost session does not look like one: ``stock_take_action.php`` then answers
"not enough privileges", other pages a script that jumps to the login page.
Either way the session logs in again once and repeats the request; only if
the fresh session gets the same answer is it a real lack of rights.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Any, Self, TypeVar
from urllib.parse import urljoin

import requests

from kiosk.exc import SlimsAuthError, SlimsForbidden, SlimsProtocolError, SlimsUnreachable
from kiosk.slims.credentials import Secret, check_url
from kiosk.slims.pages import (
    LOGIN,
    LoginAnswer,
    LoginReading,
    SessionLost,
    login_fields,
    looks_like_login,
    read_login,
    strip_tags,
)

__all__ = ["AdminSession"]

log = logging.getLogger(__name__)

_MAX_BACKOFF = 30.0

_T = TypeVar("_T")


class AdminSession:
    """HTTP to one SLiMS as one staff user, logged in on demand.

    :param verify: ``True`` (system CAs), ``False`` or a CA bundle path.
    :param retries: how often a request is repeated after a connection error,
        timeout or 5xx answer, waiting ``backoff * 2**n`` seconds (capped).
    """

    def __init__(
        self,
        url: str,
        username: str,
        password: Secret,
        *,
        verify: bool | str = True,
        timeout: float = 15.0,
        retries: int = 4,
        backoff: float = 0.5,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        check_url(url)
        self.base = url.rstrip("/") + "/"
        self.username = username
        self._password = password
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._sleep = sleep
        self.session = session if session is not None else requests.Session()
        self.verify = verify
        self.session.verify = verify
        self.session.headers["User-Agent"] = "kiosk-stocktake (+requests)"
        self.logged_in = False
        self.logins = 0
        #: How SLiMS answered the last successful login: "redirect" (9.5.2 on) or "script".
        self.login_style = ""
        #: HTTP attempts the last request needed (> 1: an earlier one may have landed).
        self.last_attempts = 0

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport --------------------------------------------------------------
    def url_for(self, path: str) -> str:
        """The full address of a SLiMS page given relative to the base address."""
        return urljoin(self.base, path)

    def request(self, method: str, path: str, **kw: Any) -> requests.Response:
        """One request with retries; connection errors and 5xx become SlimsUnreachable."""
        url = self.url_for(path)
        kw.setdefault("timeout", self.timeout)
        kw.setdefault("allow_redirects", False)
        # Per request: requests lets REQUESTS_CA_BUNDLE override a session's CA file.
        kw.setdefault("verify", self.verify)
        attempt = 0
        self.last_attempts = 1
        while True:
            problem: str
            try:
                resp = self.session.request(method, url, **kw)
            except requests.exceptions.SSLError as e:
                raise SlimsUnreachable(
                    f"TLS check of {self.base} failed ({_reason(e)}); if SLiMS uses a private CA, "
                    "set slims.ca_bundle to its certificate file"
                ) from None
            except requests.exceptions.Timeout:
                problem = f"no answer within {self.timeout:g} s"
            except requests.exceptions.ConnectionError as e:
                problem = f"connection failed ({_reason(e)})"
            except requests.exceptions.ChunkedEncodingError as e:
                problem = f"the answer broke off ({_reason(e)})"
            else:
                if resp.status_code < 500:
                    return resp
                problem = f"HTTP {resp.status_code}"
                resp.close()
            if attempt >= self.retries:
                raise SlimsUnreachable(
                    f"SLiMS at {self.base} is unreachable: {problem} "
                    f"(after {attempt + 1} attempts to {path.split('?', maxsplit=1)[0]})"
                )
            delay = min(_MAX_BACKOFF, self.backoff * 2**attempt) * random.uniform(0.8, 1.0)
            log.info("%s %s: %s; retrying in %.1f s", method, path, problem, delay)
            self._sleep(delay)
            attempt += 1
            self.last_attempts = attempt + 1

    def get_page(self, path: str, *, params: Mapping[str, Any] | None = None) -> str:
        """An admin page's text; a login page in its place raises :class:`SessionLost`."""
        resp = self.request("GET", path, params=params)
        if resp.status_code != 200:
            raise SlimsProtocolError(f"{path} answered HTTP {resp.status_code}")
        if looks_like_login(resp.text):
            raise SessionLost(strip_tags(resp.text), login=True)
        return resp.text

    def with_session(
        self,
        call: Callable[[], _T],
        *,
        rights: str = "read and write for Stock Take, read for Bibliography",
    ) -> _T:
        """Run ``call``; when SLiMS shows a lost session, log in once and repeat it.

        ``rights`` names the module rights the page needs, for the refusal's advice.
        """
        if not self.logged_in:
            self.login()
        try:
            return call()
        except SessionLost:
            log.info("SLiMS session expired; logging in again")
        self.login()
        try:
            return call()
        except SessionLost as e:
            if e.login:
                raise SlimsProtocolError(
                    f"SLiMS at {self.base} answered with its log-in page again right after a "
                    "successful log in: it does not keep the session (check that its address "
                    "in slims.url is the one SLiMS expects, and any proxy in between)"
                ) from None
            raise SlimsForbidden(
                f"SLiMS user {self.username!r} may not do this even after a fresh login "
                f"(SLiMS said: {e.text[:160]!r}); give the user the needed module rights "
                f"({rights})"
            ) from None

    # -- login ----------------------------------------------------------------
    def login(self) -> None:
        """Log in through the form; raises SlimsAuthError on refused credentials."""
        self.session.cookies.clear()  # a stale admin_logged_in cookie would skip the form
        self.logged_in = False
        form = self.request("GET", LOGIN, allow_redirects=True)
        if form.status_code != 200:
            raise SlimsProtocolError(
                f"{self.url_for(LOGIN)} answered HTTP {form.status_code}; is {self.base} a SLiMS?"
            )
        data = login_fields(form.text)
        if data is None:
            raise SlimsProtocolError(
                f"{self.url_for(LOGIN)} has no SLiMS login form with a CSRF token; "
                f"is {self.base} the SLiMS base address?"
            )
        data.update(userName=self.username, passWord=self._password.reveal(), logMeIn="Login")
        resp = self.request("POST", LOGIN, data=data)
        reading = read_login(resp.status_code, resp.headers.get("Location", ""), resp.text)
        if reading.answer is LoginAnswer.ADMIN:
            cookie = resp.cookies.get("SenayanAdmin") or self.session.cookies.get("SenayanAdmin")
            if not cookie or cookie == "deleted":
                raise SlimsAuthError(
                    f"SLiMS at {self.base} accepted the login of {self.username!r} but set no "
                    "session cookie (SenayanAdmin); a proxy in between may drop cookies"
                )
            self.logged_in = True
            self.logins += 1
            self.login_style = reading.style
            return
        raise self._refusal(reading, resp.status_code)

    def _refusal(self, reading: LoginReading, status: int) -> SlimsAuthError:
        """Why SLiMS did not log the user in, in words a technician can act on."""
        said = f" (SLiMS said: {reading.message[:120]!r})" if reading.message else ""
        match reading.answer:
            case LoginAnswer.WRONG_PASSWORD:
                return SlimsAuthError(
                    f"SLiMS at {self.base} refused user {self.username!r}: wrong user name or "
                    "password (check the credentials file or SLIMS_USER/SLIMS_PASSWORD)"
                )
            case LoginAnswer.TWO_FACTOR:
                return SlimsAuthError(
                    f"SLiMS user {self.username!r} has two-factor login, which the kiosk cannot "
                    "do; use a staff account without 2FA for the cart"
                )
            case LoginAnswer.OLD_PASSWORD:
                return SlimsAuthError(
                    f"SLiMS asks user {self.username!r} to change an old (md5) password; "
                    "log in once in a browser and set a new password"
                )
            case LoginAnswer.FORM_REFUSED:
                return SlimsAuthError(
                    f"SLiMS at {self.base} rejected the login form as stale{said}: the cookie "
                    "from its login page did not come back; check that slims.url is the "
                    "address SLiMS expects, and any proxy in between"
                )
            case LoginAnswer.BACK_TO_FORM:
                return SlimsAuthError(
                    f"SLiMS at {self.base} sent the login of {self.username!r} back to its form "
                    "without saying why; a CAPTCHA on the login form (turn it off for the "
                    "cart's user) or a proxy that drops cookies can cause this"
                )
        return SlimsAuthError(
            f"SLiMS at {self.base} did not log in {self.username!r} "
            f"(HTTP {status}, {reading.style} answer){said}"
        )


def _reason(e: BaseException) -> str:
    """The innermost cause of a requests error, without URLs or credentials."""
    inner: BaseException = e
    while (nxt := inner.__cause__ or inner.__context__) is not None:
        inner = nxt
    text = str(inner) or type(inner).__name__
    text = text.split(": ", 1)[-1] if "object at 0x" in text else text
    return text[:160]
