"""Keys and pastes reach the app's widgets one at a time, each once the last has had its effect.

Textual hands a key to the focused widget as soon as the app reads it, but runs the bindings
(backspace and ctrl+u in a field, tab, `/`, a pane's number) only once the key has bubbled back
up to the app, through one message queue per ancestor. A workbench field sits about ten
widgets deep, so in a burst (`BSpace` x8 then `abcdef`; a fast typist; a terminal's paste
without bracketed paste) the letters were typed before the backspaces ahead of them were
applied: "FAILED" ended as "FAab", "FAIL" or "cdef". Keys that followed one moving the focus
(`/`, tab, `c` for a dialog) went to the widget the focus was leaving: "zzz" typed after `/`
left "z" in the filter. A plain Input one level under the screen does the same with a
one-write burst, only less often.

So the app holds each key (and paste) until the one before has gone all the way: behind the
key it posts a KeyHandled to the widget the key went to. KeyHandled bubbles along the same
queues as the key, each in order, so it reaches the app once every handler of the key has run,
wherever it stopped, and after the bindings it met at the top. A key's effect can also be a
message its handlers post (enter in a field posts Submitted, whose handler moves the focus to
a list; a choice in a Select posts Changed, which enables a field): those sit in the same
queues, so KeyHandled goes the way a second time, behind the messages the first round's
handlers posted (and the ones those posted on its way). The next key goes out after the focus
changes all those asked for (`focus()` is a callback on the app's queue, queued before) and,
when the key opened or closed a screen, once that screen has focused what it focuses (its
`on_mount` runs before it reads its queue; a KeyHandled goes through it too). The cost is a
few dozen hops of latency per key, a few milliseconds, invisible at typing speed
(bench/search.py measures key latency).

A key whose way is cut (its widget removed while the key was on its way) never reports back:
the keys behind it go out once a widget on its way has left the DOM, or after LOST_AFTER_S.
"""

from __future__ import annotations

import time
from collections import deque

from textual import events
from textual.app import App, ReturnType
from textual.dom import DOMNode
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer

LOST_AFTER_S = 3.0
"""Seconds after which a key that has not reported back no longer holds up the next: far
more than any key takes on a loaded machine (a few milliseconds), short enough that a lost
one leaves the keyboard only briefly unresponsive."""
_LOOK_EVERY_S = 0.5
ROUNDS = 2
"""Times KeyHandled goes the key's way: with the key, then behind the messages its handlers
posted (tests/unit/tui/test_key_order.py has a case that needs each)."""


class KeyHandled(Message):
    """Sent behind a key to the widget the key went to; back at the app, the key is done."""

    def __init__(self, screen: Screen[object], way: tuple[DOMNode, ...], lap: int = 1) -> None:
        super().__init__()
        self.screen = screen
        """The screen in front when the key went out."""
        self.lap = lap
        """Which time this KeyHandled goes the key's way (1 to ROUNDS)."""
        self.way = way
        """The widget the key went to and its ancestors: if one leaves the DOM, the key and
        this message may be dropped on the way."""
        self.sent = time.monotonic()


class KeysInOrderApp(App[ReturnType]):
    """An App whose keys and pastes are delivered one at a time, in the order they came."""

    def __init__(self) -> None:
        super().__init__()
        self._waiting: deque[events.Key | events.Paste] = deque()
        self._in_flight: KeyHandled | None = None
        self._lost_keys_timer: Timer | None = None

    @property
    def keys_pending(self) -> bool:
        """Keys or pastes read but not yet handled: what a test waits on before it looks."""
        return bool(self._waiting) or self._in_flight is not None

    async def on_event(self, event: events.Event) -> None:
        """Keys and pastes straight from the terminal (or the Pilot) queue up here."""
        if isinstance(event, events.Key | events.Paste) and not event.is_forwarded:
            self._waiting.append(event)
            await self._deliver()
            return
        await super().on_event(event)

    async def _deliver(self) -> None:
        """Send the next waiting key on, unless one is on its way."""
        if not self._waiting or self._in_flight is not None:
            return
        event = self._waiting.popleft()
        screen = self.screen
        target = self.focused or screen  # where Textual forwards it
        await super().on_event(event)  # a priority binding, or forwarded to `target`
        if event.is_forwarded:
            self._send_behind(screen, target)
        else:  # a priority binding ran (ctrl+p opens the command palette)
            self._in_flight = KeyHandled(screen, ())
            self._on_key_handled(self._in_flight)

    def _send_behind(self, screen: Screen[object], target: DOMNode, lap: int = 1) -> None:
        self._in_flight = KeyHandled(screen, tuple(target.ancestors_with_self), lap)
        target.post_message(self._in_flight)
        if self._lost_keys_timer is None:
            self._lost_keys_timer = self.set_interval(_LOOK_EVERY_S, self._release_lost_key)

    def _on_key_handled(self, message: KeyHandled) -> None:
        # Done after the callbacks the key's handlers queued here (`focus()` is one).
        self.call_later(self._key_done, message)

    async def _key_done(self, message: KeyHandled) -> None:
        if message is not self._in_flight:
            return  # one given up as lost
        target = message.way[0] if message.way else None
        if message.lap < ROUNDS and target is not None and target.is_attached:
            self._send_behind(message.screen, target, message.lap + 1)
            return
        if self.screen is not message.screen:
            # Another screen in front: the next key waits until it has mounted (or resumed)
            # and set its focus.
            self._send_behind(self.screen, self.screen)
            return
        self._in_flight = None
        await self._deliver()

    async def _release_lost_key(self) -> None:
        """Send the next key on if the one on its way can no longer report back."""
        message = self._in_flight
        if message is None or not self.is_running:
            return
        cut = any(not (node.is_attached and node.is_running) for node in message.way)
        if cut or time.monotonic() - message.sent > LOST_AFTER_S:
            self._in_flight = None
            await self._deliver()
