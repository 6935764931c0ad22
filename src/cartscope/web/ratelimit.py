"""Sign-in rate limiting: after ``max_failures`` failed sign-ins for one user name, or from one
client address, within ``window_s`` seconds, further attempts are refused until the oldest
failure leaves the window (a sliding window; OWASP Authentication Cheat Sheet, account
lockout). State is per application instance and in memory: a restart forgets it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class LoginLimiter:
    def __init__(self, max_failures: int, window_s: float, clock: Callable[[], float] = time.monotonic):
        if max_failures < 1 or window_s <= 0:
            raise ValueError("max_failures must be >= 1 and window_s > 0")
        self.max_failures = max_failures
        self.window_s = window_s
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _live(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return times

    def retry_after(self, username: str, client: str) -> float:
        """Seconds until an attempt is allowed again (0 when allowed now)."""
        now = self._clock()
        wait = 0.0
        with self._lock:
            for key in (f"u:{username.lower()}", f"c:{client}"):
                times = self._live(key, now)
                if len(times) >= self.max_failures:
                    wait = max(wait, times[0] + self.window_s - now)
        return wait

    def failed(self, username: str, client: str) -> None:
        now = self._clock()
        with self._lock:
            for key in (f"u:{username.lower()}", f"c:{client}"):
                self._live(key, now).append(now)

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(f"u:{username.lower()}", None)
