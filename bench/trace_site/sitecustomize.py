"""Loaded by every Python process started with this directory on PYTHONPATH (bench.stalls only).

Logs each garbage collection pass slower than 1 ms (wall time, generation, duration, objects
collected) to ``$THUDO_TRACE_GC`` so the open-loop client's slow requests can be lined up with them;
with ``$THUDO_TRACE_LOOP`` and ``THUDO_TRACE_SERVICE=1`` (the service only), its event-loop lag and slow
access-log writes (``bench.stalls.install_loop_trace``).
"""

import os

if os.environ.get("THUDO_TRACE_GC"):
    from bench.stalls import install_gc_trace

    install_gc_trace(os.environ["THUDO_TRACE_GC"])

if os.environ.get("THUDO_TRACE_NO_FREEZE"):
    # The "before" of bench.stalls --no-freeze: the server as it was without the start-up heap freeze.
    import api.platform.app

    api.platform.app.freeze_startup_heap = lambda: None

if os.environ.get("THUDO_TRACE_LOOP") and os.environ.get("THUDO_TRACE_SERVICE") == "1":
    # Service workers only (bench.stalls --scenario): event-loop lag and access-log write times.
    from bench.stalls import install_loop_trace

    install_loop_trace(os.environ["THUDO_TRACE_LOOP"])
