"""Transitions of one promise at the same time, each on its own connection to PostgreSQL."""

import itertools
from datetime import timedelta

from django.utils import timezone

from promises import services
from promises.models import PromiseEvent
from tests.concurrency import in_parallel
from tests.factories import AccountFactory, PromiseFactory

RENEGOTIATIONS = 20


def test_concurrent_renegotiations_leave_a_history_in_time_order_each_following_the_last(
    transactional_db,
):
    promise = PromiseFactory(account=AccountFactory(), due_at=timezone.now() + timedelta(days=1))
    later = timezone.now() + timedelta(days=2)
    number = itertools.count(1)

    def renegotiate():
        due_at = later + timedelta(minutes=next(number))
        return services.renegotiate_promise(promise, by=None, due_at=due_at)

    in_parallel(renegotiate, copies=RENEGOTIATIONS)

    # As the history is read: by time (then id, the model's ordering).
    events = list(PromiseEvent.objects.filter(promise=promise))
    assert [event.kind for event in events] == ["created"] + ["renegotiated"] * RENEGOTIATIONS
    assert [event.pk for event in events] == sorted(event.pk for event in events)
    for previous, event in itertools.pairwise(events):
        assert event.old_due_at == previous.new_due_at, (previous, event)
    promise.refresh_from_db()
    assert promise.due_at == events[-1].new_due_at
    assert promise.renegotiated_count == RENEGOTIATIONS
