"""Closed-loop maximum throughput with wrk: a Lua script per request shape, JSON summary out.

Every connection sends its next request as soon as the previous answer arrives, so the request
rate wrk reaches is the server's maximum at that concurrency. The script's ``done()`` prints one
``WRK_JSON {...}`` line with exact percentiles, so nothing depends on wrk's human-readable output.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.scenarios import RequestSpec

_MARK = "WRK_JSON "


@dataclass(frozen=True)
class WrkResult:
    requests: int
    duration_s: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    non_2xx: int  # wrk counts non-2xx/3xx answers as "status" errors
    socket_errors: int  # connect + read + write + timeout

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors


def ensure_wrk() -> str | None:
    """Path to wrk, installing the Debian package when missing and allowed (root)."""
    found = shutil.which("wrk")
    if found or not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(["apt-get", "install", "-y", "wrk"], env=env, check=False).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, check=False)
        subprocess.run(["apt-get", "install", "-y", "wrk"], env=env, check=False)
    return shutil.which("wrk")


def _lua_str(value: str) -> str:
    """A Lua long-bracket literal: no escaping needed whatever the content (JSON, tokens, UTF-8)."""
    level = 0
    while f"]{'=' * level}]" in value:
        level += 1
    eq = "=" * level
    return f"[{eq}[{value}]{eq}]"


def _lua_headers(headers: dict[str, str]) -> str:
    return "{" + ", ".join(f"[ {_lua_str(k)} ] = {_lua_str(v)}" for k, v in headers.items()) + "}"


def lua_script(spec: RequestSpec, run_id: str | None = None) -> str:
    """The wrk script for ``spec``; Idempotency-Key = run id - thread - per-thread counter."""
    run_id = run_id or secrets.token_hex(4)
    header_sets = ",\n  ".join(_lua_headers(h) for h in spec.headers)
    bodies = ",\n  ".join(_lua_str(b.decode()) for b in spec.bodies)
    paths = ",\n  ".join(_lua_str(p) for p in spec.paths or (spec.path,))
    return f"""
local method = {_lua_str(spec.method)}
local paths = {{
  {paths}
}}
local header_sets = {{
  {header_sets}
}}
local bodies = {{
  {bodies}
}}
local idempotency = {"true" if spec.idempotency_keys else "false"}
local counter = 0
local prefix = ""
local static = nil
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("tid", thread_count)
end

function init(args)
  prefix = "bench-{run_id}-" .. tostring(tid) .. "-"
  if not idempotency and #header_sets == 1 and #bodies <= 1 and #paths == 1 then
    -- One fixed request: format it once, wrk then reuses the bytes.
    static = wrk.format(method, paths[1], header_sets[1], bodies[1])
  end
end

function request()
  if static then return static end
  counter = counter + 1
  local h = {{}}
  for k, v in pairs(header_sets[(counter % #header_sets) + 1]) do h[k] = v end
  if idempotency then h["Idempotency-Key"] = prefix .. counter end
  local body = nil
  if #bodies > 0 then body = bodies[(counter % #bodies) + 1] end
  -- paths (when per request) pair with header sets: same length, same index
  return wrk.format(method, paths[(counter % #paths) + 1], h, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{_MARK}{{"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"status": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.status, e.connect, e.read, e.write, e.timeout))
end
"""


def parse(output: str) -> WrkResult:
    match = re.search(rf"^{_MARK}(\{{.*\}})$", output, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"wrk printed no summary:\n{output[-2000:]}")
    d = json.loads(match.group(1))
    duration = d["duration_us"] / 1e6
    return WrkResult(
        requests=d["requests"], duration_s=duration, rps=d["requests"] / duration if duration else 0.0,
        p50_ms=d["p50_us"] / 1000, p90_ms=d["p90_us"] / 1000, p99_ms=d["p99_us"] / 1000, max_ms=d["max_us"] / 1000,
        non_2xx=d["status"], socket_errors=d["connect"] + d["read"] + d["write"] + d["timeout"],
    )


def run_wrk(base_url: str, spec: RequestSpec, *, duration: float, connections: int = 64, threads: int = 2,
            wrk: str = "wrk") -> WrkResult:
    threads = max(1, min(threads, connections))
    with tempfile.TemporaryDirectory(prefix="thudo-wrk-") as tmp:
        script = Path(tmp) / "request.lua"
        script.write_text(lua_script(spec), encoding="utf-8")
        argv = [wrk, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s", "--timeout", "10s",
                "--latency", "-s", str(script), base_url]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout[-2000:]}")
    # wrk runs on (with its default GET) even when the script fails to load: treat that as fatal.
    if "WRK_JSON" not in proc.stdout:
        raise RuntimeError(f"wrk script failed: {proc.stderr.strip()[-2000:]}")
    return parse(proc.stdout)
