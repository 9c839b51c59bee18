"""Server workers move their start-up heap out of the garbage collector's reach (the /me p99 stalls)."""

from __future__ import annotations

import gc
import inspect

from api.platform import app


def test_freezing_moves_every_live_object_to_the_permanent_generation() -> None:
    gc.unfreeze()
    try:
        app.freeze_startup_heap()
        assert gc.get_freeze_count() > 1000  # this test process's modules at least
        assert gc.get_count()[2] == 0  # nothing left for a full pass to walk
    finally:
        gc.unfreeze()  # other tests build and drop many apps: those must stay collectable


def test_only_the_server_entry_point_freezes() -> None:
    assert inspect.signature(app.create_app).parameters["freeze_heap"].default is False
    assert "freeze_heap=True" in inspect.getsource(app.app_factory)
