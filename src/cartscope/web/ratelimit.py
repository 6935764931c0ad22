"""Sign-in rate limiting with backoff, not lockout (NIST SP 800-63B 5.2.2; OWASP Authentication
Cheat Sheet).

Failures are counted per user name and per client address within a sliding window of
``window_s`` seconds. Up to ``max_failures`` failures of a user name, and ``address_factor``
times as many from one client address (a ward signing in together behind one NAT address
must not be slowed by one colleague's typos), cost nothing; after that each further
attempt must wait ``2^(k-1)`` seconds after the previous failure (k = failures past the
limit), capped at ``account_cap_s`` for a user name and at ``window_s`` for an address. So
a guesser is slowed exponentially, while nobody can lock a user out from elsewhere for more
than ``account_cap_s`` at a time.

:meth:`LoginLimiter.begin` is atomic: it checks the limit *and* counts the attempt as a
failure in one step under a lock, so parallel guesses are counted before any password is
verified (40 parallel wrong guesses are 40 counted failures). A successful sign-in takes its
own attempt back and clears the user name's failures. State is per application instance and
in memory: a restart forgets it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Attempt:
    """A counted sign-in attempt (give it back with :meth:`LoginLimiter.succeeded`)."""

    username: str
    client: str
    at: float


class LoginLimiter:
    def __init__(self, max_failures: int, window_s: float, clock: Callable[[], float] = time.monotonic,
                 account_cap_s: float = 60.0, address_factor: int = 4):
        if max_failures < 1 or window_s <= 0 or address_factor < 1:
            raise ValueError("max_failures and address_factor must be >= 1 and window_s > 0")
        self.max_failures = max_failures
        self.address_max_failures = max_failures * address_factor
        self.window_s = window_s
        self.account_cap_s = account_cap_s
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _live(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return times

    def _keys(self, username: str, client: str) -> tuple[tuple[str, float, int], tuple[str, float, int]]:
        """(key, backoff cap, free failures) of the user name and of the client address."""
        return ((f"u:{username.lower()}", self.account_cap_s, self.max_failures),
                (f"c:{client}", self.window_s, self.address_max_failures))

    def _wait(self, times: deque[float], cap: float, limit: int, now: float) -> float:
        over = len(times) - limit + 1
        if over <= 0 or not times:
            return 0.0
        delay = min(cap, 2.0 ** (over - 1))
        return max(0.0, times[-1] + delay - now)

    def retry_after(self, username: str, client: str) -> float:
        """Seconds until an attempt is allowed again (0 when allowed now)."""
        now = self._clock()
        with self._lock:
            return max(self._wait(self._live(key, now), cap, limit, now)
                       for key, cap, limit in self._keys(username, client))

    def begin(self, username: str, client: str) -> tuple[Attempt | None, float]:
        """Atomically: ``(attempt, 0)`` with the attempt counted as a failure, or ``(None, wait)``."""
        now = self._clock()
        with self._lock:
            keys = self._keys(username, client)
            wait = max(self._wait(self._live(key, now), cap, limit, now) for key, cap, limit in keys)
            if wait > 0:
                return None, wait
            for key, _, _ in keys:
                self._live(key, now).append(now)
            return Attempt(username, client, now), 0.0

    def failed(self, username: str, client: str) -> None:
        """Count a failure (an attempt not started with :meth:`begin`)."""
        now = self._clock()
        with self._lock:
            for key, _, _ in self._keys(username, client):
                self._live(key, now).append(now)

    def succeeded(self, username: str, attempt: Attempt | None = None) -> None:
        """A good password: the user name's failures are cleared, the address's attempt given back."""
        with self._lock:
            self._failures.pop(f"u:{username.lower()}", None)
            if attempt is not None:
                times = self._failures.get(f"c:{attempt.client}")
                if times is not None:
                    try:
                        times.remove(attempt.at)
                    except ValueError:
                        pass
