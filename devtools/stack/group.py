"""Started pieces of a stack, stopped together: all are asked to end at once (SIGTERM),
then each is stopped, the last started first. While a group stops on signals, Ctrl-C and
SIGTERM to this process end it through the caller's ``finally`` (or ``with``), which
stops the group."""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType
from typing import Any, Protocol, TypeVar

from devtools.stack.processes import Process, Supervised


class Stoppable(Protocol):
    def stop(self) -> None: ...


Piece = TypeVar("Piece", bound=Stoppable)


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


class Group:
    def __init__(self) -> None:
        self.pieces: list[Stoppable] = []
        self.saved_handlers: dict[int, Any] = {}

    def add(self, piece: Piece) -> Piece:
        """Stop ``piece`` with the group (it is started by the caller)."""
        self.pieces.append(piece)
        return piece

    def stop_on_signals(self) -> Group:
        """Until `stop`: Ctrl-C raises KeyboardInterrupt (even where SIGINT was inherited
        ignored) and SIGTERM SystemExit. Signals reach only the main thread; elsewhere this
        does nothing."""
        if threading.current_thread() is threading.main_thread():
            handlers = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: _exit_on_sigterm}
            for signum, handler in handlers.items():
                self.saved_handlers[signum] = signal.signal(signum, handler)
        return self

    def stop(self) -> None:
        for signum in self.saved_handlers:  # a second Ctrl-C must not cut the stopping short
            signal.signal(signum, signal.SIG_IGN)
        pieces, self.pieces = self.pieces[::-1], []
        for piece in pieces:
            if isinstance(piece, Process):
                piece.terminate()
        for piece in pieces:
            piece.stop()
        for signum, handler in self.saved_handlers.items():
            signal.signal(signum, handler)
        self.saved_handlers = {}

    def __enter__(self) -> Group:
        return self.stop_on_signals()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def exited(self) -> list[Process]:
        """The processes of the group that ended by themselves and are not started again
        by a supervisor."""
        return [
            piece
            for piece in self.pieces
            if isinstance(piece, Process)
            and not isinstance(piece, Supervised)
            and piece.popen is not None
            and not piece.running
        ]
