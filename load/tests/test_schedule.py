import pytest

from load.schedule import OpenLoopSchedule


def test_slots_fall_due_at_a_fixed_rate_from_the_start():
    schedule = OpenLoopSchedule(rate=10.0, start=100.0)
    assert [schedule.claim() for _ in range(4)] == pytest.approx([100.0, 100.1, 100.2, 100.3])


def test_a_slot_claimed_late_keeps_its_own_time():
    # However late a shopper comes for it, the next slot is the next tenth of a second:
    # the schedule never shifts to suit the platform.
    schedule = OpenLoopSchedule(rate=10.0, start=0.0)
    schedule.claim()
    assert schedule.claim() == pytest.approx(0.1)


@pytest.mark.parametrize("rate", [0.0, -1.0])
def test_a_rate_that_is_not_positive_is_refused(rate):
    with pytest.raises(ValueError):
        OpenLoopSchedule(rate=rate, start=0.0)


def test_slots_due_by_a_moment_include_the_one_due_at_that_moment():
    schedule = OpenLoopSchedule(rate=10.0, start=5.0)
    assert schedule.due_by(4.9) == 0
    assert schedule.due_by(5.0) == 1
    assert schedule.due_by(5.95) == 10
    assert schedule.due_by(6.0) == 11


def test_slots_due_that_no_shopper_claimed_are_counted_as_owed():
    schedule = OpenLoopSchedule(rate=10.0, start=0.0)
    for _ in range(4):  # claimed up to the slot due at 0.3 s
        schedule.claim()
    assert schedule.unclaimed_by(0.3) == 0
    assert schedule.unclaimed_by(0.95) == 6  # the slots of 0.4 .. 0.9 s were never sent
    # Shoppers that claim ahead of time owe nothing.
    for _ in range(10):
        schedule.claim()
    assert schedule.unclaimed_by(0.95) == 0
