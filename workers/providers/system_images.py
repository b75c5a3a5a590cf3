"""Operating system images found by name and version in a provider's own list, and cached.

The id behind "Windows Server 2022" or "Ubuntu 22.04" is the provider's to give (Contabo's
differ per account and change over time), so a client never carries one: it names the
image it wants per os_type, and `ImageCatalog` reads the provider's list (every page),
keeps it for ``ttl`` seconds, and answers the id of the first image that matches.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from workers.outside_errors import PermanentError

TTL_SECONDS = 3600.0  # images change rarely; a new one shows within the hour


@dataclass(frozen=True)
class SystemImage:
    """One entry of a provider's list; ``version`` is empty where the list has none."""

    id: str
    name: str
    version: str = ""


@dataclass(frozen=True)
class WantedImage:
    """An image by name and version: every word of ``name`` is a word of the image's name,
    and ``version`` is its version (or, where the list has none, a word of its name)."""

    name: str
    version: str

    def matches(self, image: SystemImage) -> bool:
        words = _words(image.name)
        if not set(_words(self.name)) <= set(words):
            return False
        return image.version == self.version if image.version else self.version in words

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


class ImageCatalog:
    """A provider's image list, read through ``fetch`` at most once per ``ttl`` seconds."""

    def __init__(
        self,
        title: str,
        fetch: Callable[[], Iterable[SystemImage]],
        wanted: Mapping[str, WantedImage],
        *,
        ttl: float = TTL_SECONDS,
    ) -> None:
        self.title = title
        self.wanted = dict(wanted)
        self._fetch = fetch
        self._ttl = ttl
        self._images: list[SystemImage] = []
        self._expires_at = 0.0
        self._lock = threading.Lock()

    def knows(self, os_type: str) -> bool:
        return os_type in self.wanted

    def image_id(self, os_type: str) -> str:
        """The provider's id of the image wanted for ``os_type``; PermanentError naming it
        when the os_type is unknown or the provider lists no such image."""
        try:
            wanted = self.wanted[os_type]
        except KeyError:
            raise PermanentError(
                f"no {self.title} image for os_type {os_type!r} "
                f"(known: {', '.join(sorted(self.wanted))})"
            ) from None
        for image in self._current():
            if wanted.matches(image):
                return image.id
        raise PermanentError(
            f"{self.title} lists no image named {wanted.name!r} with version "
            f"{wanted.version!r} (wanted for os_type {os_type!r})"
        )

    def _current(self) -> list[SystemImage]:
        with self._lock:
            now = time.monotonic()
            if now >= self._expires_at:
                self._images = list(self._fetch())
                self._expires_at = now + self._ttl
            return self._images


def _words(text: str) -> list[str]:
    return [word for word in re.split(r"[\s_-]+", text.lower()) if word]
