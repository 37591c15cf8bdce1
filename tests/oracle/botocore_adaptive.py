#!/usr/bin/env python3
"""botocore's adaptive retry rate limiter on a fixed script, as an oracle for retry.c.

Reads a JSON object on stdin: {"start": seconds, "events": [[t, throttled], ...]} and prints
{"rates": [...], "measured": [...], "enabled": [...]}: after each event (an attempt's outcome
at time t, throttled true or false) the token bucket's new rate, the measured send rate and
whether the limiter is enabled. botocore's own classes run on a fake clock, wired as
botocore.retries.adaptive.register_retry_handler wires them. Exits 77 without botocore.
"""
import json
import sys

try:
    from botocore.retries import adaptive, bucket, throttling
except ImportError:
    sys.exit(77)


class FakeClock:
    def __init__(self, t):
        self.t = t

    def current_time(self):
        return self.t

    def sleep(self, amount):
        self.t += amount


class Detector:
    throttled = False

    def is_throttling_error(self, **kwargs):
        return self.throttled


def main():
    script = json.load(sys.stdin)
    clock = FakeClock(script["start"])
    cubic = throttling.CubicCalculator(starting_max_rate=0, start_time=clock.current_time())
    tokens = bucket.TokenBucket(max_rate=1, clock=clock)
    detector = Detector()
    limiter = adaptive.ClientRateLimiter(
        rate_adjustor=cubic, rate_clocker=adaptive.RateClocker(clock), token_bucket=tokens,
        throttling_detector=detector, clock=clock)
    out = {"rates": [], "measured": [], "enabled": []}
    for t, throttled in script["events"]:
        clock.t = t
        detector.throttled = bool(throttled)
        limiter.on_receiving_response()
        out["rates"].append(tokens.max_rate)
        out["measured"].append(limiter._rate_clocker.measured_rate)
        out["enabled"].append(limiter._enabled)
    json.dump(out, sys.stdout)


main()
