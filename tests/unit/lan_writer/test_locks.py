"""The LAN lock rules: taking, joining, releasing, finishing, force-release, refused results."""

from __future__ import annotations

import pytest

from services.lan_writer import locks
from services.lan_writer import repository as repo
from services.lan_writer.locks import Holder, Lock
from shared.contracts.documents import Target
from shared.errors import Refusal

T0 = "2026-11-28T10:00:00+00:00"
T1 = "2026-11-28T10:05:00+00:00"


def shared() -> Lock:
    return Lock(state="free", collective=False)


def collective() -> Lock:
    return Lock(state="free", collective=True)


def code_of(fn: object, *args: object) -> tuple[str, int, dict[str, object]]:
    with pytest.raises(Refusal) as caught:
        fn(*args)  # type: ignore[operator]
    return caught.value.code, caught.value.status, caught.value.params


# Taking.


def test_the_first_taker_locks_a_shared_document_and_the_second_is_told_by_whom() -> None:
    taken = locks.take(shared(), "ivanov", T0)
    assert taken.state == "taken"
    assert taken.holders == (Holder("ivanov", T0),)
    assert code_of(locks.take, taken, "petrov", T1) == (
        "document_taken",
        409,
        {"holder": "ivanov"},
    )


def test_taking_again_changes_nothing() -> None:
    taken = locks.take(shared(), "ivanov", T0)
    assert locks.take(taken, "ivanov", T1) is taken


def test_a_collective_document_is_joined_by_several_users() -> None:
    lock = locks.take(locks.take(collective(), "ivanov", T0), "petrov", T1)
    assert lock.state == "taken"
    assert lock.logins == ("ivanov", "petrov")


@pytest.mark.parametrize(
    ("state", "code", "status"),
    [("done", "document_already_finished", 409), ("withdrawn", "document_withdrawn", 410)],
)
def test_a_closed_document_cannot_be_taken(state: str, code: str, status: int) -> None:
    lock = Lock(state=state, collective=False, withdrawn_reason="recalled")  # type: ignore[arg-type]
    assert code_of(locks.take, lock, "ivanov", T0)[:2] == (code, status)


# Releasing.


def test_releasing_a_shared_document_frees_it_for_others() -> None:
    released = locks.release(locks.take(shared(), "ivanov", T0), "ivanov")
    assert released.state == "free" and released.holders == ()
    assert locks.take(released, "petrov", T1).logins == ("petrov",)


def test_only_a_holder_can_release() -> None:
    taken = locks.take(shared(), "ivanov", T0)
    assert code_of(locks.release, taken, "petrov")[0] == "document_not_taken"


def test_a_collective_document_stays_taken_while_someone_is_left() -> None:
    lock = locks.take(locks.take(collective(), "ivanov", T0), "petrov", T1)
    left = locks.release(lock, "ivanov")
    assert left.state == "taken" and left.logins == ("petrov",)
    assert locks.release(left, "petrov").state == "free"


def test_leaving_a_shared_document_drops_ones_lines_but_a_collective_part_stays() -> None:
    assert locks.lines_dropped_by_release(shared(), "ivanov") == ("ivanov",)
    assert locks.lines_dropped_by_release(collective(), "ivanov") == ()


# Results.


def test_a_partial_result_keeps_the_lock_and_a_final_one_finishes_a_shared_document() -> None:
    taken = locks.take(shared(), "ivanov", T0)
    assert locks.submit(taken, "ivanov", False) == (taken, False)
    done, complete = locks.submit(taken, "ivanov", True)
    assert complete is True
    assert done.state == "done" and done.finished == ("ivanov",) and done.holders == ()


def test_a_collective_document_is_done_when_its_last_holder_finishes() -> None:
    lock = locks.take(locks.take(collective(), "ivanov", T0), "petrov", T1)
    after_first, complete = locks.submit(lock, "ivanov", True)
    assert complete is False
    assert after_first.state == "taken" and after_first.logins == ("petrov",)
    after_second, complete = locks.submit(after_first, "petrov", True)
    assert complete is True
    assert after_second.state == "done"
    assert after_second.finished == ("ivanov", "petrov")


@pytest.mark.parametrize(
    ("lock", "login", "code"),
    [
        (Lock("free", False), "ivanov", "document_not_taken"),
        (Lock("taken", False, (Holder("petrov", T0),)), "ivanov", "document_taken"),
        (Lock("done", False, (), ("petrov",)), "ivanov", "document_already_finished"),
        (
            Lock("taken", True, (Holder("petrov", T0),), ("ivanov",)),
            "ivanov",
            "document_already_finished",
        ),
        (Lock("free", False, (), (), {"ivanov": "stale"}), "ivanov", "lock_lost"),
        (
            Lock("withdrawn", False, (Holder("ivanov", T0),), withdrawn_reason="recalled"),
            "ivanov",
            "document_withdrawn",
        ),
    ],
)
def test_a_result_from_someone_not_holding_the_document_is_refused(
    lock: Lock, login: str, code: str
) -> None:
    assert code_of(locks.submit, lock, login, True)[0] == code
    assert code_of(locks.submit, lock, login, False)[0] == code


# Operators.


def test_force_release_frees_the_document_and_remembers_who_lost_it_and_why() -> None:
    taken = locks.take(shared(), "ivanov", T0)
    released = locks.force_release(taken, "terminal lost")
    assert released.state == "free" and released.holders == ()
    assert released.lost == {"ivanov": "terminal lost"}
    assert code_of(locks.submit, released, "ivanov", True) == (
        "lock_lost",
        409,
        {"reason": "terminal lost"},
    )


def test_after_force_release_another_user_takes_it_and_the_old_holder_is_still_refused() -> None:
    released = locks.force_release(locks.take(shared(), "ivanov", T0), "stale")
    retaken = locks.take(released, "petrov", T1)
    assert code_of(locks.submit, retaken, "ivanov", True)[0] == "lock_lost"
    assert locks.submit(retaken, "petrov", True)[1] is True


def test_taking_again_after_losing_the_lock_clears_the_loss() -> None:
    released = locks.force_release(locks.take(shared(), "ivanov", T0), "stale")
    again = locks.take(released, "ivanov", T1)
    assert again.lost == {}
    assert locks.submit(again, "ivanov", True)[1] is True


def test_force_release_of_a_free_document_is_refused() -> None:
    assert code_of(locks.force_release, shared(), "why")[0] == "document_not_locked"


def test_a_taken_document_cannot_be_reassigned_until_released() -> None:
    lock = locks.take(locks.take(collective(), "ivanov", T0), "petrov", T1)
    assert code_of(locks.check_reassignable, lock) == (
        "release_lock_first",
        409,
        {"holders": "ivanov, petrov"},
    )
    locks.check_reassignable(shared())  # a free one may be


# Routing refused a result.


def test_a_refused_final_result_puts_the_user_back_to_work() -> None:
    done, _ = locks.submit(locks.take(shared(), "ivanov", T0), "ivanov", True)
    back = locks.result_refused(done, "ivanov", True, T1)
    assert back.state == "taken"
    assert back.holders == (Holder("ivanov", T1),)
    assert back.finished == ()


def test_a_refused_partial_result_changes_no_lock() -> None:
    taken = locks.take(shared(), "ivanov", T0)
    assert locks.result_refused(taken, "ivanov", False, T1) is taken


def test_a_refusal_of_a_withdrawn_document_leaves_it_withdrawn() -> None:
    lock = Lock("withdrawn", False, (), ("ivanov",), withdrawn_reason="recalled")
    assert locks.result_refused(lock, "ivanov", True, T1) is lock


# Whom a copy is for, as one key.


@pytest.mark.parametrize(
    ("target", "key"),
    [
        (Target(kind="user", value="ivanov"), "user:ivanov"),
        (Target(kind="group", value="storekeepers"), "group:storekeepers"),
        (Target(kind="everyone"), "everyone"),
        (Target(kind="device", value="dev-1"), "device:dev-1"),
    ],
)
def test_assignee_keys_name_whom_a_document_is_for(target: Target, key: str) -> None:
    assert repo.assignee_key(target) == key
    assert repo.target_of(key) == target.model_dump()


def test_a_user_sees_their_own_groups_everyone_and_their_device() -> None:
    assert repo.keys_for("ivanov", ["storekeepers"], "dev-1") == [
        "user:ivanov",
        "group:storekeepers",
        "everyone",
        "device:dev-1",
    ]
    assert repo.keys_for("ivanov", [], None) == ["user:ivanov", "everyone"]


def test_result_keys_differ_per_user_of_the_same_copy() -> None:
    assert repo.result_key("d1", "ivanov", "r1") != repo.result_key("d1", "petrov", "r1")
    assert repo.result_key("d1", "ivanov", "r1") == repo.result_key("d1", "ivanov", "r1")
