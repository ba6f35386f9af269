"""The bridge's constants: how often it reads, writes and retries, and a few words it says."""

from __future__ import annotations

#: One store transaction per 25 ms: the live view can show a new state 40 times a second.
FLUSH_S = 0.025
READ_TIMEOUT_S = 0.01
#: How long samples wait for the INFO frame (the calibration) before being judged uncalibrated.
INFO_WAIT_S = 1.0
RECONNECT_BACKOFF_S = (0.1, 0.2, 0.5, 1.0, 2.0)
#: How long a store write waits for another program's lock before trying again at the next flush
#: (the loop must go on judging), and how long the last one, at the end, waits.
STORE_WAIT_S = 0.1
FINAL_WAIT_S = 30.0
#: Commands (a changed limit) are looked for as often as the store is written: a limit set on
#: the dashboard is judged within 2 × 25 ms.
COMMAND_POLL_S = FLUSH_S
LIVE_POINTS_PER_FLUSH = 64
DRAIN_S = 0.002
MAX_DRAIN_READS = 64
#: The store setting holding the zero shift in a session that is warned about (N), and its default:
#: well past a warmed-up cell's drift, so a temperature swing, a cable or a failing cell.
DRIFT_WARNING_SETTING = "drift_warning_n"
DRIFT_WARNING_N = 2.0
#: The calibration key of force the tool sends itself, and how that is said per wire format.
DEVICE_FORCE = "device-force"
DEVICE_FORCE_WORDS = {
    "text": "the tool's program sends force (text lines in N, g, kg or lbf)",
    "csv": "a replayed export: the force was recorded calibrated",
    "binary": "the tool sends calibrated force",
    "progressor": "the Progressor-protocol load cell sends calibrated force (kg)",
}
