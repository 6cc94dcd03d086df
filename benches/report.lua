-- wrk script for every measured row: prints one machine-readable line after
-- wrk's own report, so benches/run.sh need not parse wrk's unit-suffixed text.
-- Latencies are in microseconds. status_errors counts responses that were
-- neither 2xx nor 3xx (wrk's "Non-2xx or 3xx responses").
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "REPORT requests=%d duration_us=%d rps=%.2f p50_us=%d p99_us=%d max_us=%d status_errors=%d socket_errors=%d timeouts=%d\n",
    summary.requests, summary.duration,
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), latency.max,
    e.status, e.connect + e.read + e.write, e.timeout))
end
