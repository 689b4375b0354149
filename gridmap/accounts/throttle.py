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
    """Lockout after ``per_account`` failures for one name or ``per_address`` from one address.

    ``prefix`` is the deployment's rate-limit key prefix: Flask-Limiter puts it in front of its
    own keys only, and deployments (or test runs) sharing a Redis must not count each other's
    failures.
    """

    strategy: RateLimiter
    per_account: RateLimitItem
    per_address: RateLimitItem
    prefix: str = "gridmap"

    @classmethod
    def build(cls, strategy: RateLimiter, *, per_account: str, per_address: str,
              prefix: str = "gridmap") -> SignInThrottle:
        """A throttle from limits in the ``5/15minutes`` notation."""
        return cls(strategy, parse(per_account), parse(per_address), prefix)

    def _keys(self, username: str,
              address: str) -> tuple[tuple[RateLimitItem, str, str, str], ...]:
        return ((self.per_account, self.prefix, "sign_in_fail_account", username.lower()),
                (self.per_address, self.prefix, "sign_in_fail_address", address))

    def wait_s(self, username: str, address: str) -> int | None:
        """Seconds until this name or address may try again, or None if it may now."""
        waits = [max(1, int(self.strategy.get_window_stats(item, *key).reset_time - time.time()))
                 for item, *key in self._keys(username, address)
                 if not self.strategy.test(item, *key)]
        return max(waits) if waits else None

    def failed(self, username: str, address: str) -> None:
        """Count one failure against the name and the address."""
        for item, *key in self._keys(username, address):
            self.strategy.hit(item, *key)

    def succeeded(self, username: str) -> None:
        """Forget the name's failures (the address keeps its count)."""
        self.strategy.clear(self.per_account, self.prefix, "sign_in_fail_account",
                            username.lower())
