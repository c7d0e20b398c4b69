"""An example labgrid (0.4.1, Debian's python3-labgrid) integration of smpctl: a resource that names the
device and a driver whose dfu step runs `smpctl --json --device ADDR dfu IMAGE`.

It relies only on what smpctl(1) documents: the JSON lines of JSON OUTPUT and the codes of EXIT STATUS.
Nothing here knows how smpctl talks to the device, so the same driver serves ble:, udp: and serial:
addresses. Load it from an environment file with `imports: [smpctl_labgrid.py]` (see env.yaml).
"""
import json
import logging
import subprocess

import attr
from labgrid.driver.common import Driver
from labgrid.factory import target_factory
from labgrid.resource.common import Resource
from labgrid.step import step

# The JSON lines this driver reads: every line starts with "schema_version" and "device" (smpctl(1)
# JSON OUTPUT); a line of another schema, or of none, is refused rather than misread.
SCHEMA_VERSION = 1

# smpctl(1) EXIT STATUS, for the message; the number itself is what callers should test.
EXIT_NAMES = {
    1: "failure", 2: "usage", 3: "transport", 4: "timeout", 5: "device error", 6: "protocol",
    7: "verification", 8: "image file", 9: "reverted", 10: "downgrade refused", 74: "output",
    75: "device in use", 130: "interrupted",
}


class SmpctlError(Exception):
    """smpctl exited non-zero. exit_code is its documented exit status, error the one-line message of the
    failure object ({"type": "result", "ok": false, ...}), device_error the device's rc when it answered
    with one, result the whole object."""

    def __init__(self, exit_code, error, result=None):
        self.exit_code = exit_code
        self.error = error
        self.result = result or {}
        self.device_error = self.result.get("device_error")
        name = EXIT_NAMES.get(exit_code, "unknown")
        super().__init__("smpctl exited %d (%s): %s" % (exit_code, name, error))


class SmpctlOutputError(Exception):
    """smpctl's standard output is not what smpctl(1) documents: not JSON, another schema version, or no
    result line. The driver will not guess at output it does not know."""


@target_factory.reg_resource
@attr.s(eq=False)
class SmpDevice(Resource):
    """A device smpctl can reach: address as for smpctl --device (ble:..., udp:HOST:PORT, serial:...)."""
    address = attr.ib(validator=attr.validators.instance_of(str))


@target_factory.reg_driver
@attr.s(eq=False)
class SmpctlDriver(Driver):
    """Updates the bound SmpDevice with smpctl.

    Args:
        smpctl (str): the smpctl to run, looked up on PATH unless it has a slash
        timeout (int): seconds after which the run is killed; smpctl's own deadlines come first
    """
    bindings = {"device": "SmpDevice"}
    smpctl = attr.ib(default="smpctl", validator=attr.validators.instance_of(str))
    timeout = attr.ib(default=900, validator=attr.validators.instance_of(int))

    def __attrs_post_init__(self):
        super().__attrs_post_init__()
        self.logger = logging.getLogger("%s:%s" % (self, self.target))

    @Driver.check_active
    @step(args=["image", "mode"], result=True)
    def dfu(self, image, mode=None, key=None, extra=()):
        """Runs smpctl dfu and returns its final result object (smpctl(1) JSON OUTPUT, dfu "result").

        mode is a --mode of smpctl dfu (test-and-confirm when None), key a public key PEM for --key,
        extra further dfu options. Raises SmpctlError when smpctl fails, SmpctlOutputError when its output
        is not the documented one."""
        cmd = [self.smpctl, "--json", "--device", self.device.address, "dfu", image]
        if mode:
            cmd += ["--mode", mode]
        if key:
            cmd += ["--key", key]
        cmd += list(extra)
        self.logger.debug("running %s", " ".join(cmd))
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=self.timeout)
        try:
            result = self._result(proc.stdout)
        except SmpctlOutputError:
            # The exit code is documented apart from the JSON: a failure stays that failure.
            if proc.returncode == 0:
                raise
            result = None
        if proc.returncode != 0:
            # Without a failure object (smpctl could not write one) the message on stderr is all there is.
            error = result.get("error") if result else None
            raise SmpctlError(proc.returncode, error or _last_line(proc.stderr), result)
        if not result or result.get("ok") is not True:
            raise SmpctlOutputError("smpctl exited 0 without an ok result line: %r" % proc.stdout[-200:])
        return result

    def _result(self, stdout):
        """The last "result" line, after logging the steps and warnings before it."""
        result = None
        for line in stdout.splitlines():
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                raise SmpctlOutputError("smpctl printed a line that is not JSON: %r" % line[:200]) from None
            if not isinstance(obj, dict):
                raise SmpctlOutputError("smpctl printed JSON that is not an object: %r" % line[:200])
            if obj.get("schema_version") != SCHEMA_VERSION:
                raise SmpctlOutputError("smpctl's JSON is schema_version %r; this driver reads %d"
                                        % (obj.get("schema_version"), SCHEMA_VERSION))
            # A rack run ends with a "summary" line, not a result; with one --device every result is ours.
            if obj.get("type") == "result":
                result = obj
            elif obj.get("type") in ("state", "warning"):
                self.logger.info("%s: %s", obj.get("step"), obj.get("message"))
        return result


def _last_line(text):
    lines = [l for l in text.splitlines() if l.strip()]
    return lines[-1] if lines else "(no message)"
