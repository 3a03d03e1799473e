"""The per-account Redis lock and the retry rule, on the real Redis."""

from __future__ import annotations

import threading
import time

import pytest

from backend.ingest import IngestError
from backend.tasks import AccountBusy, account_lock, is_transient
from loaders.transport import ApiError


def test_one_holder_per_account_and_a_redelivered_task_takes_its_lock_back(fresh_account_id: str) -> None:
    with account_lock(fresh_account_id, "skypath.sync[a]"):
        with pytest.raises(AccountBusy, match=rf"account {fresh_account_id} is busy: skypath.sync\[a\] holds"):
            with account_lock(fresh_account_id, "skypath.scan[b]"):
                pass
        with account_lock(fresh_account_id, "skypath.sync[a]"):  # the same task, delivered again
            pass
        with account_lock(str(int(fresh_account_id) + 1), "skypath.sync[c]"):  # another account is free
            pass


def test_a_bounded_wait_gets_the_lock_when_it_is_released(fresh_account_id: str) -> None:
    released = threading.Event()

    def hold() -> None:
        with account_lock(fresh_account_id, "skypath.sync[a]"):
            released.wait(1.0)

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.2)
    with account_lock(fresh_account_id, "skypath.scan[b]", wait_seconds=30):
        assert not holder.is_alive()  # it ran only after the holder let go
    holder.join()


def test_transient_errors_are_retried_and_others_are_not() -> None:
    throttled = ApiError("Throttling.User", "Request was denied due to user flow control.", 400)
    assert is_transient(throttled)
    assert is_transient(ApiError("InternalError", "", 503))
    try:
        try:
            raise throttled
        except ApiError as exc:
            raise IngestError("collect failed") from exc
    except IngestError as wrapped:
        assert is_transient(wrapped)
    assert not is_transient(ApiError("Forbidden.RAM", "no permission", 403))
    assert not is_transient(IngestError("snapshot is not valid JSON"))
