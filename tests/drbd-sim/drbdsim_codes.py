"""drbdsim: the result codes of DRBD and the exit codes the simulated tools turn them into.

Why a module of its own: the state rules (drbdsim_model) return the kernel's SS_ codes, the
printers (drbdsim_formats) print them with the kernel's texts, and the commands (drbdsim_tools,
drbdsim_cli) end with drbdsetup's and drbdadm's exit codes.  Keeping the codes, their texts,
the code-to-exit mapping and Fail (how any layer ends the program) in one place keeps those
three layers agreeing.  Codes and texts come from drbd-headers (linux/drbd.h, drbd_strings.c)
and drbd-utils v9.22.0 (user/v9/drbdsetup.c).
"""

import sys

# State-change results (enum drbd_state_rv) and their texts
SS_TWO_PRIMARIES = -1
SS_NO_UP_TO_DATE_DISK = -2
SS_DEVICE_IN_USE = -12
SS_NO_QUORUM = -25
SS_MESSAGES = {
    SS_TWO_PRIMARIES: "Multiple primaries not allowed by config",
    SS_NO_UP_TO_DATE_DISK: "Need access to UpToDate data",
    SS_DEVICE_IN_USE: "Device is held open by someone",
    SS_NO_QUORUM: "No quorum",
}

# Netlink reply codes (enum drbd_ret_code) and their texts
ERR_DISCARD_IMPOSSIBLE = 123
ERR_NET_CONFIGURED = 125
ERR_RES_NOT_KNOWN = 158
ERR_MINOR_OR_VOLUME_EXISTS = 161
ERR_INVALID_REQUEST = 162
ERR_MESSAGES = {
    ERR_DISCARD_IMPOSSIBLE: "--discard-my-data not allowed when primary.",
    ERR_NET_CONFIGURED: "Device has a net-config (use disconnect first)",
    ERR_RES_NOT_KNOWN: "Unknown resource",
    ERR_MINOR_OR_VOLUME_EXISTS: "Minor or volume exists already (delete it first)",
    ERR_INVALID_REQUEST: "Invalid configuration request",
}

# Exit codes.  drbdsetup: 10 "Failure: (N)" / unknown object, 11 "State change failed",
# 17 SS_NO_UP_TO_DATE_DISK, 20 usage and anything else (drbdsetup.c:940-975, docs/drbd.md §5.3).
# drbdadm: 1 E_USAGE (usage, resource not in the config), otherwise drbdsetup's code
# (shared_main.h, drbdadm_main.c).
RC_FAILURE = 10
RC_STATE = 11
RC_NO_UP_TO_DATE = 17
RC_OTHER = 20
RC_ADM_USAGE = 1


def ss_exit_code(code):
    """drbdsetup.c print_config_error: the exit code of a failed state change."""
    if code == SS_NO_UP_TO_DATE_DISK:
        return RC_NO_UP_TO_DATE
    if code == -16:  # SS_LOWER_THAN_OUTDATED
        return 5
    if code == -4:  # SS_NO_LOCAL_DISK
        return 16
    return RC_STATE


class Fail(Exception):
    """Ends the program: message (if any) on stderr, then exit rc."""

    def __init__(self, rc, message=None):
        super().__init__(message)
        self.rc = rc
        self.message = message


def err(text):
    sys.stderr.write(text if text.endswith("\n") else text + "\n")
