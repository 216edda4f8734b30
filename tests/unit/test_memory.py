"""`settle_after_start`: what start-up built leaves the cyclic collector's sight; young collections are rarer."""

from __future__ import annotations

import gc

from bot.memory import YOUNG_THRESHOLD, settle_after_start


def test_start_up_objects_leave_the_collectors_sight_and_young_collections_are_rarer():
    before = gc.get_threshold()
    built_at_start = [["config"], ["mappers"]]
    assert any(o is built_at_start for o in gc.get_objects())
    try:
        settle_after_start()
        assert not any(o is built_at_start for o in gc.get_objects()), "a full collection no longer walks it"
        made_later = [["a request"]]
        assert any(o is made_later for o in gc.get_objects())
        assert gc.get_threshold() == (YOUNG_THRESHOLD, before[1], before[2])
    finally:
        gc.unfreeze()  # the test process goes on with CPython's defaults
        gc.set_threshold(*before)
