"""``make soak``: the long runs behind ``docs/reliability.md`` (fuzzers at a million cases,
faults repeated ten times, a 4-hour session at 1 kHz, 8 live tabs for 30 minutes).

Never part of ``make test``.
"""
