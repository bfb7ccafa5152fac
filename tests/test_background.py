"""The private background loop: blocking runs, background futures, interrupt cancellation."""

import asyncio
import signal
import threading

import pytest

from amc_magic.background import BackgroundLoop


@pytest.fixture
def background():
    loop = BackgroundLoop()
    yield loop
    loop.close()


def test_run_returns_the_coroutines_value_from_another_thread(background):
    async def work():
        return threading.current_thread().name

    assert background.run(work()) == "amc-magic-loop"


def test_run_propagates_exceptions(background):
    async def boom():
        raise ValueError("nope")

    with pytest.raises(ValueError, match="nope"):
        background.run(boom())


def test_submit_returns_at_once_and_completes_later(background):
    gate = threading.Event()

    async def wait_for_gate():
        await asyncio.to_thread(gate.wait, 5)
        return 42

    future = background.submit(wait_for_gate())
    assert not future.done()
    gate.set()
    assert future.result(5) == 42


def test_keyboard_interrupt_cancels_the_task_and_waits_for_its_cleanup(background):
    cleaned = threading.Event()
    started = threading.Event()

    async def long_poll():
        started.set()
        try:
            await asyncio.sleep(60)
        finally:
            await asyncio.sleep(0.05)  # the engine's "PUT status=CANCELLED" would happen here
            cleaned.set()

    main_thread = threading.main_thread().ident

    def interrupt_main_thread_once_started():  # what a kernel interrupt does: SIGINT to the kernel
        started.wait(5)
        signal.pthread_kill(main_thread, signal.SIGINT)

    threading.Thread(target=interrupt_main_thread_once_started, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        background.run(long_poll())
    assert cleaned.is_set()


def test_run_from_the_loop_thread_is_refused(background):
    async def nested():
        inner = asyncio.sleep(0)
        with pytest.raises(RuntimeError, match="own loop thread"):
            background.run(inner)
        return True

    assert background.run(nested())


def test_close_cancels_pending_tasks_and_a_new_loop_starts_on_demand(background):
    future = background.submit(asyncio.sleep(60))
    background.close()
    assert future.cancelled()  # the pending task was cancelled, not left to finish

    async def ping():
        return "pong"

    assert background.run(ping()) == "pong"
