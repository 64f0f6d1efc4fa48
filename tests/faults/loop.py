"""Run an asyncio load from a test, even when Playwright's sync API holds this thread's loop."""

import asyncio
from concurrent.futures import ThreadPoolExecutor


def run_async(coroutine):
    """``asyncio.run`` in a fresh thread: a browser test earlier in the same worker process
    leaves an event loop running in the main thread, where ``asyncio.run`` refuses to start."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
