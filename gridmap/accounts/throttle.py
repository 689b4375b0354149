"""Failed sign-ins counted per account name and per client address, in the rate-limit store.

The counters live where Flask-Limiter keeps its own (Redis in production, shared by every
worker) through the ``limits`` library's strategy, so a guesser cannot spread attempts across
workers. Only failures count; a success clears its account's counter. An unknown account name
is counted exactly like a known one, so the lockout answer reveals nothing about which names
exist.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.strategies import RateLimiter


@dataclass(frozen=True)
class SignInThrottle:
    """Lockout after ``per_account`` failures for one name or ``per_address`` from one address."""

    strategy: RateLimiter
    per_account: RateLimitItem
    per_address: RateLimitItem

    @classmethod
    def build(cls, strategy: RateLimiter, *, per_account: str, per_address: str) -> SignInThrottle:
        """A throttle from limits in the ``5/15minutes`` notation."""
        return cls(strategy, parse(per_account), parse(per_address))

    def _keys(self, username: str, address: str) -> tuple[tuple[RateLimitItem, str, str], ...]:
        return ((self.per_account, "sign_in_fail_account", username.lower()),
                (self.per_address, "sign_in_fail_address", address))

    def wait_s(self, username: str, address: str) -> int | None:
        """Seconds until this name or address may try again, or None if it may now."""
        waits = [max(1, int(self.strategy.get_window_stats(item, ns, key).reset_time - time.time()))
                 for item, ns, key in self._keys(username, address)
                 if not self.strategy.test(item, ns, key)]
        return max(waits) if waits else None

    def failed(self, username: str, address: str) -> None:
        """Count one failure against the name and the address."""
        for item, ns, key in self._keys(username, address):
            self.strategy.hit(item, ns, key)

    def succeeded(self, username: str) -> None:
        """Forget the name's failures (the address keeps its count)."""
        self.strategy.clear(self.per_account, "sign_in_fail_account", username.lower())
