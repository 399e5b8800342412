"""The typed in-process event bus: handlers by event class, in order, and one that fails is
logged without stopping the others or the publisher."""

import logging

from node.domain_events import HelloHeard, NobodySubscribed
from node.toolkit.event_bus import EventBus


def test_handlers_get_the_events_of_their_class_in_order():
    bus, heard = EventBus(), []
    bus.subscribe(HelloHeard, lambda e: heard.append(("first", e.board)))
    bus.subscribe(HelloHeard, lambda e: heard.append(("second", e.board)))
    bus.subscribe(NobodySubscribed, lambda e: heard.append(("nobody", e.topic)))
    bus.publish(HelloHeard("general"))
    assert heard == [("first", "general"), ("second", "general")]
    bus.publish(NobodySubscribed("onusone/v1/board/general"))
    assert heard[-1] == ("nobody", "onusone/v1/board/general")


def test_an_event_nobody_listens_to_is_dropped():
    EventBus().publish(HelloHeard("general"))


def test_a_failing_handler_is_logged_and_the_others_still_run(caplog):
    bus, heard = EventBus(), []

    def broken(event: HelloHeard) -> None:
        raise KeyError("a bug in one reaction")

    bus.subscribe(HelloHeard, broken)
    bus.subscribe(HelloHeard, lambda e: heard.append(e.board))
    with caplog.at_level(logging.ERROR):
        bus.publish(HelloHeard("general"))
    assert heard == ["general"]
    (record,) = caplog.records
    assert "HelloHeard" in record.getMessage() and record.exc_info is not None
