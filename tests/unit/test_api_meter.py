"""RequestMeter: a thread-safe count of the requests sent over Kit's rolling minute."""

from __future__ import annotations

import threading

from kit_desktop.api.meter import RequestMeter


def test_meter_counts_a_rolling_minute() -> None:
    meter = RequestMeter(clock=lambda: 0.0)
    for at in (0.0, 10.0, 20.0):
        meter.record(at)
    assert meter.used(30.0) == 3
    assert meter.seconds_until_free(30.0, limit=4) == 0
    assert meter.seconds_until_free(30.0, limit=3) == 30
    assert meter.seconds_until_free(30.0, limit=2) == 40
    assert meter.seconds_until_oldest_leaves(30.0) == 30
    assert meter.used(60.0) == 2
    assert meter.used(81.0) == 0
    assert meter.seconds_until_oldest_leaves(81.0) == 0


def test_meter_is_thread_safe() -> None:
    meter = RequestMeter()

    def send_500() -> None:
        for _ in range(500):
            meter.record()

    threads = [threading.Thread(target=send_500) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert meter.used() == 4000
