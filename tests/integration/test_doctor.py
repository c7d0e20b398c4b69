"""smpctl doctor against the BlueZ stand-in in each state it can be in: no bus, no BlueZ, a bus policy that
refuses the user, no adapter, an adapter powered off, a missing --adapter, bonded devices, a bond with
--device, a serial port, and ModemManager on the bus."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import *  # noqa: E402,F403

# The stand-in's policy with one refusal: BlueZ's object list is not for us, as when the system bus's
# bluetooth.conf does not admit the user.
DENY_CONF = read(BUS_CONF).replace(
    "</policy>", '  <deny send_destination="org.bluez" send_interface="org.freedesktop.DBus.ObjectManager"/>\n'
    "  </policy>")


def checks(result):
    return {c["check"]: c for c in result.json()["checks"]}


class Doctor(unittest.TestCase):
    def doctor(self, b, *args, device=None):
        r = b.run(["--json", "doctor"] + list(args), device=device)
        self.assertIn(r.code, (0, 1), r)
        self.assertEqual(r.code == 0, r.json()["ok"], r)
        return r

    def test_all_well(self):
        with BluezSim() as b:
            r = self.doctor(b)
            self.assertEqual(r.code, 0, r)
            c = checks(r)
            self.assertEqual([k for k in c if c[k]["status"] == "fail"], [])
            self.assertIn("BlueZ is running", c["bluez"]["message"])
            self.assertEqual(c["access"]["status"], "ok")
            self.assertIn("adapter hci0 (00:1A:7D:DA:71:13) is powered", c["adapter"]["message"])
            self.assertEqual(c["experimental"]["status"], "ok")
            self.assertIn("conn-interval", c)
            self.assertIn("no bonded SMP devices", c["bonds"]["message"])
            self.assertEqual(c["modemmanager"]["status"], "ok")
            self.assertNotIn("serial", c)
            text = b.run(["doctor"], device=None)
            self.assertEqual(text.code, 0, text)
            self.assertRegex(text.out, r"(?m)^ok    bluez +BlueZ is running")
            self.assertEqual(len(text.out.splitlines()), len(c), text.out)

    def test_no_bus(self):
        r = run(["--json", "doctor"], env={"DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent/bus"})
        self.assertEqual(r.code, 1, r)
        c = checks(r)
        self.assertEqual(c["bluez"]["status"], "fail")
        self.assertIn("system bus cannot be reached", c["bluez"]["message"])
        self.assertEqual(c["bluez"]["fix"], "sudo systemctl start dbus")

    def test_no_bluez(self):
        bus = PrivateBus()
        try:
            r = run(["doctor"], env=bus.env)
            self.assertEqual(r.code, 1, r)
            self.assertRegex(r.out, r"(?m)^fail  bluez +BlueZ is not running: nothing owns org.bluez on the system "
                                    r"bus.*: run 'sudo (apt-get install bluez && sudo )?systemctl enable --now bluetooth'$")
            self.assertNotIn("adapter", r.out)
            # A command's own error names the same fix, and the doctor.
            r = run(["--scan-timeout", "1", "echo", "x"], env=bus.env, device=SIM_ADDRESS)
            self.assertEqual(r.code, EXIT_TRANSPORT, r)
            self.assertIn("'sudo systemctl start bluetooth'; 'smpctl doctor' checks the set-up", r.err)
        finally:
            bus.close()

    def test_access_denied(self):
        with tempfile.TemporaryDirectory(prefix="smpctl-doctor-") as tmp:
            conf = os.path.join(tmp, "deny.conf")
            with open(conf, "w") as f:
                f.write(DENY_CONF)
            saved, harness.BUS_CONF = harness.BUS_CONF, conf
            try:
                with BluezSim() as b:
                    r = self.doctor(b)
                    echo = b.run(["--scan-timeout", "1", "echo", "x"])
            finally:
                harness.BUS_CONF = saved
        self.assertEqual(r.code, 1, r)
        c = checks(r)
        self.assertEqual(c["bluez"]["status"], "ok")
        self.assertEqual(c["access"]["status"], "fail")
        self.assertIn("refuses", c["access"]["message"])
        self.assertRegex(c["access"]["fix"], r"^sudo (usermod -aG bluetooth \S+|sudoedit /etc/dbus-1/system.d/bluetooth.conf)$")
        self.assertNotEqual(echo.code, 0, echo)
        self.assertIn("'sudo usermod -aG bluetooth $USER'", echo.err)

    def test_no_adapter(self):
        with BluezSim("--adapters", "0") as b:
            r = self.doctor(b)
            self.assertEqual(r.code, 1, r)
            c = checks(r)
            self.assertEqual(c["adapter"]["status"], "fail")
            self.assertIn("no Bluetooth adapter", c["adapter"]["message"])
            self.assertEqual(c["adapter"]["fix"], "sudo rfkill unblock bluetooth")
            self.assertNotIn("conn-interval", c)
            self.assertIn("'sudo rfkill unblock bluetooth'", b.run(["echo", "x"]).err)

    def test_adapter_powered_off(self):
        with BluezSim() as b:
            subprocess.run(["busctl", "--address", b.bus.address, "set-property", "org.bluez", "/org/bluez/hci0",
                            "org.bluez.Adapter1", "Powered", "b", "false"], check=True, timeout=30)
            r = self.doctor(b)
            self.assertEqual(r.code, 1, r)
            c = checks(r)
            self.assertEqual(c["adapter"]["status"], "fail")
            self.assertEqual(c["adapter"]["message"], "adapter hci0 (00:1A:7D:DA:71:13) is powered off")
            self.assertEqual(c["adapter"]["fix"], "bluetoothctl power on")
            self.assertIn("'bluetoothctl power on'", b.run(["echo", "x"]).err)

    def test_second_adapter_off_and_missing_adapter(self):
        with BluezSim("--adapters", "2") as b:
            subprocess.run(["busctl", "--address", b.bus.address, "set-property", "org.bluez", "/org/bluez/hci1",
                            "org.bluez.Adapter1", "Powered", "b", "false"], check=True, timeout=30)
            c = checks(self.doctor(b))
            self.assertEqual(c["adapter"]["status"], "ok")
            self.assertIn("hci0", c["adapter"]["message"])
            r = self.doctor(b, "--adapter", "hci1")
            self.assertEqual(r.code, 1, r)
            self.assertEqual(checks(r)["adapter"]["fix"],
                             "busctl set-property org.bluez /org/bluez/hci1 org.bluez.Adapter1 Powered b true")
            r = self.doctor(b, "--adapter", "hci7")
            self.assertEqual(r.code, 1, r)
            self.assertEqual(checks(r)["adapter"]["message"], "no adapter hci7: BlueZ has hci0, hci1")

    def test_bonds_and_device_bond(self):
        with BluezSim("--known", "--device", "C0:FF:EE:00:00:01,name=board-a",
                      "--device", "C0:FF:EE:00:00:02,name=board-b") as b:
            c = checks(self.doctor(b))
            self.assertEqual(c["bonds"]["message"], "2 bonded SMP devices: C0:FF:EE:00:00:01 (board-a) on hci0, "
                                                    "C0:FF:EE:00:00:02 (board-b) on hci0")
            self.assertNotIn("bond", c)
            r = self.doctor(b, device="ble:c0:ff:ee:00:00:02")
            self.assertEqual(r.code, 0, r)
            self.assertEqual(checks(r)["bond"]["message"], "the bond with C0:FF:EE:00:00:02 works: a connection came up")
            self.assertEqual(checks(self.doctor(b, device="ble:name=board-a"))["bond"]["status"], "ok")
            unknown = checks(self.doctor(b, device="ble:C0:FF:EE:00:00:09"))["bond"]
            self.assertEqual((unknown["status"], unknown["fix"]), ("ok", None))
            self.assertIn("does not know C0:FF:EE:00:00:09", unknown["message"])

    def test_stale_bond(self):
        # The device forgets its bond (a settings erase takes effect at the reset); BlueZ keeps its own.
        with BluezSim("--known") as b:
            self.assertEqual(b.run(["settings", "erase"]).code, 0)
            self.assertEqual(b.run(["reset"]).code, 0)
            r = self.doctor(b, device=SIM_ADDRESS)
            self.assertEqual(r.code, 1, r)
            bond = checks(r)["bond"]
            self.assertEqual(bond["status"], "fail", r)
            self.assertIn("lost its bond", bond["message"])
            self.assertEqual(bond["fix"], "bluetoothctl remove C0:FF:EE:00:00:01")
            # smpctl itself repairs it on the next connection; then the doctor finds the new bond working.
            r = b.run(["--passkey", "123456", "echo", "hi"])
            self.assertEqual(r.out, "hi\n", r)
            self.assertEqual(checks(self.doctor(b, device=SIM_ADDRESS))["bond"]["status"], "ok")

    def test_serial_port(self):
        with BluezSim() as b:
            r = self.doctor(b, device="serial:/nonexistent/ttyACM9,baud=115200")
            self.assertEqual(r.code, 1, r)
            serial = checks(r)["serial"]
            self.assertEqual(serial["status"], "fail")
            self.assertIn("/nonexistent/ttyACM9 does not exist", serial["message"])
            # The BlueZ checks still run: a serial user may have Bluetooth devices too.
            self.assertIn("bluez", checks(r))
            r = self.doctor(b, device="serial:/dev/null")
            if os.access("/dev/null", os.R_OK | os.W_OK):
                self.assertEqual(checks(r)["serial"]["status"], "ok")

    def test_serial_port_of_another_group(self):
        """A port whose group the user is not in (dialout, as on Debian) fails with the usermod fix. As root,
        who may open anything, smpctl runs as nobody (setpriv); otherwise the port is made unreadable."""
        import grp
        import json
        import subprocess
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            os.chmod(tmp, 0o755)
            port = os.path.join(tmp, "ttyACM7")
            open(port, "w").close()
            if os.geteuid() == 0:
                os.chown(port, 0, grp.getgrnam("dialout").gr_gid)
                os.chmod(port, 0o660)
                prefix, group = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"], "dialout"
            else:
                os.chmod(port, 0)
                prefix, group = [], grp.getgrgid(os.getgid()).gr_name
            env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS="unix:path=/nonexistent/bus")
            proc = subprocess.run(prefix + [SMPCTL, "--json", "doctor", "--device", "serial:" + port], env=env,
                                  capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
            self.assertEqual(proc.returncode, 1, proc)
            serial = {c["check"]: c for c in json.loads(proc.stdout)["checks"]}["serial"]
            self.assertEqual(serial["status"], "fail", serial)
            self.assertIn("may not open " + port, serial["message"])
            self.assertIn("sudo usermod -aG %s " % group, serial["fix"])
            self.assertIn("then log in again", serial["message"])

    def test_modem_manager(self):
        import dbus  # python3-dbus: ModemManager's name, owned on the private bus while doctor runs
        with BluezSim() as b:
            conn = dbus.bus.BusConnection(b.bus.address)
            try:
                conn.request_name("org.freedesktop.ModemManager1")
                r = self.doctor(b)
            finally:
                conn.close()
            self.assertEqual(r.code, 0, r)
            mm = checks(r)["modemmanager"]
            self.assertEqual(mm["status"], "warn")
            self.assertIn("ID_MM_DEVICE_IGNORE", mm["fix"])
            self.assertIn("udevadm control --reload", mm["fix"])


if __name__ == "__main__":
    main()
