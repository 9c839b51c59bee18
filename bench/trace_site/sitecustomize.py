"""Loaded by every Python process started with this directory on PYTHONPATH (bench.stalls only).

Logs each garbage collection pass slower than 1 ms (wall time, generation, duration, objects
collected) to ``$THUDO_TRACE_GC`` so the open-loop client's slow requests can be lined up with them.
"""

import os

if os.environ.get("THUDO_TRACE_GC"):
    from bench.stalls import install_gc_trace

    install_gc_trace(os.environ["THUDO_TRACE_GC"])

if os.environ.get("THUDO_TRACE_NO_FREEZE"):
    # The "before" of bench.stalls --no-freeze: the server as it was without the start-up heap freeze.
    import api.platform.app

    api.platform.app.freeze_startup_heap = lambda: None
