"""A service keeps what it built to start out of the garbage collector's full passes."""

from __future__ import annotations

import gc

from shared.service import settle_startup_objects


def test_objects_built_before_serving_are_no_longer_walked_by_the_collector() -> None:
    built_at_start = [{"route": "/api/v1/terminal/inbox"}]
    gc.unfreeze()
    try:
        settle_startup_objects()
        assert gc.get_freeze_count() > 0
        walked = gc.get_objects()
        assert not any(o is built_at_start for o in walked)
        # What the load makes afterwards is walked as before.
        made_later: list[object] = []
        assert any(o is made_later for o in gc.get_objects())
    finally:
        gc.unfreeze()
