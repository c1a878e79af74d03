"""Where each service's replicas answer: round robin, and a replica that refuses connections
is rested for a while (passive health checks, for deployments without a load balancer or a
service mesh in front of the services: ``GAMESTORE_<SERVICE>_URL`` listing several URLs).

Behind a Kubernetes Service or Compose's DNS there is one URL per service and this is a no-op.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence

from gamestore.platform.logs import get_logger

log = get_logger("gateway.upstreams")
REST_SECONDS = 5.0  # how long a replica that refused a connection is skipped


class Replicas:
    """One service's replicas, taken in turn; one that failed to connect sits out a while."""

    def __init__(
        self,
        urls: Sequence[str],
        *,
        rest: float = REST_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not urls:
            raise ValueError("a service needs at least one URL")
        self.urls = tuple(url.rstrip("/") for url in urls)
        self._rest = rest
        self._clock = clock
        self._next = 0
        self._resting_until = dict.fromkeys(self.urls, float("-inf"))

    def __len__(self) -> int:
        return len(self.urls)

    def pick(self) -> str:
        """The next replica in turn that is not resting; if all are, the one back soonest
        (a try beats a certain 503)."""
        now = self._clock()
        for _ in self.urls:
            url = self.urls[self._next]
            self._next = (self._next + 1) % len(self.urls)
            if self._resting_until[url] <= now:
                return url
        return min(self.urls, key=self._resting_until.__getitem__)

    def failed(self, url: str) -> None:
        """``url`` refused or timed out connecting: skip it for a while."""
        if self._resting_until.get(url, 0.0) <= self._clock():
            log.warning("upstream replica unreachable, resting it", url=url, seconds=self._rest)
        self._resting_until[url] = self._clock() + self._rest


class Upstreams(Mapping[str, str]):
    """Every service's replicas; ``upstreams[name]`` is the replica to use next."""

    def __init__(self, urls: Mapping[str, Sequence[str]], *, rest: float = REST_SECONDS):
        self._replicas = {name: Replicas(found, rest=rest) for name, found in urls.items()}

    def replicas(self, name: str) -> Replicas:
        return self._replicas[name]

    def __getitem__(self, name: str) -> str:
        return self._replicas[name].pick()

    def __contains__(self, name: object) -> bool:  # without taking a turn, as lookup would
        return name in self._replicas

    def __iter__(self) -> Iterator[str]:
        return iter(self._replicas)

    def __len__(self) -> int:
        return len(self._replicas)
