"""firmware/ and the simulated device must move together (firmware/README.md, include/sim-device.h).

The firmware is never built here (no Zephyr tree), so this test reads its configuration (prj.conf, the
board fragments, the partitions, VERSION, sysbuild.conf) and holds the simulated device to it: what
smpctl can observe of smpctl-sim's defaults is asked over UDP, progressive erase is read from the
model's defaults. A change on one side of any value checked here fails. Not compared: the reset delay (a
time, and these runs are instant).
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import *  # noqa: E402,F403

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
FIRMWARE = os.path.join(ROOT, "firmware")


def source(*parts):
    return read(os.path.join(ROOT, *parts))


def kconfig(*fragments):
    """CONFIG_X=value lines of the fragments (later ones win, as Kconfig merges them): ints, strings, y/n."""
    values = {}
    for fragment in fragments:
        for line in read(os.path.join(FIRMWARE, fragment)).splitlines():
            m = re.match(r"^((?:SB_)?CONFIG_\w+)=(.*)$", line.strip())
            if not m:
                continue
            value = m.group(2)
            if value.startswith('"'):
                value = value.strip('"')
            elif re.match(r"^-?(0x[0-9a-fA-F]+|\d+)$", value):
                value = int(value, 0)
            values[m.group(1)] = value
    return values


def enabled(config, name):
    return config.get(name) == "y"


def partitions():
    """label -> (offset, size) from the one partitions file both MCUboot and the application read."""
    dts = read(os.path.join(FIRMWARE, "boards", "nrf52833-partitions.dtsi"))
    found = re.findall(r"(\w+_partition): partition@[0-9a-f]+ \{\s*label = \"[^\"]+\";\s*"
                       r"reg = <(0x[0-9a-fA-F]+) (0x[0-9a-fA-F]+)>;", dts)
    return {name: (int(off, 16), int(size, 16)) for name, off, size in found}


def sim_default(field):
    """The value sim_config_default() gives a SimConfig field (src/sim/sim-device.c)."""
    body = re.search(r"void sim_config_default\(SimConfig \*cfg\)\s*\{(.*?)\n\}", source("src", "sim", "sim-device.c"),
                     re.S).group(1)
    m = re.search(r"\.%s = ([^,]+)," % field, body)
    return m.group(1).strip() if m else "false"  # fields left out of the initializer are zero


def header_constant(name):
    return int(re.search(r"#define %s (0x[0-9a-fA-F]+|\d+)u?" % name, source("include", "sim-device.h")).group(1), 0)


class FirmwareMatchesSimulatedDevice(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.prj = kconfig("prj.conf")
        cls.board = kconfig("prj.conf", "boards/nrf52833dk_nrf52833.conf")
        cls.sysbuild = kconfig("sysbuild.conf")
        cls.sim = Sim()

    @classmethod
    def tearDownClass(cls):
        cls.sim.close()

    def smpctl(self, *args):
        return run(list(args), device=self.sim.address)

    def test_buffers(self):
        self.assertTrue(enabled(self.prj, "CONFIG_MCUMGR_GRP_OS_MCUMGR_PARAMS"))
        r = self.smpctl("--json", "params")
        self.assertEqual(r.code, EXIT_OK, r)
        self.assertEqual(r.json(), {"buf_size": self.prj["CONFIG_MCUMGR_TRANSPORT_NETBUF_SIZE"],
                                    "buf_count": self.prj["CONFIG_MCUMGR_TRANSPORT_NETBUF_COUNT"]})

    def test_partitions(self):
        parts = partitions()
        self.assertEqual(sorted(parts), ["boot_partition", "slot0_partition", "slot1_partition", "storage_partition"])
        # Contiguous from 0 and exactly the part's 512 KiB, in 4 KiB pages.
        end = 0
        for name in sorted(parts, key=lambda p: parts[p][0]):
            offset, size = parts[name]
            self.assertEqual(offset, end, name)
            self.assertEqual(size % header_constant("SIM_PAGE_SIZE"), 0, name)
            end = offset + size
        self.assertEqual(end, 512 * 1024)
        self.assertEqual(parts["slot0_partition"][1], parts["slot1_partition"][1])
        self.assertEqual(parts["slot0_partition"][1], header_constant("SIM_SLOT_SIZE"))
        self.assertEqual(parts["storage_partition"][1], header_constant("SIM_STORAGE_SIZE"))

    def test_slot_info(self):
        r = self.smpctl("--json", "image", "slots")
        self.assertTrue(enabled(self.prj, "CONFIG_MCUMGR_GRP_IMG_SLOT_INFO"))
        self.assertEqual(r.code, EXIT_OK, r)
        image = r.json()["images"][0]
        slot = partitions()["slot1_partition"][1]
        self.assertEqual([s["size"] for s in image["slots"]], [partitions()["slot0_partition"][1], slot])
        # TOO_LARGE_SYSBUILD on the boards with MCUboot: the limit is what swap-using-move can swap with
        # slots of equal size, two pages less than the slot.
        self.assertEqual("max_image_size" in image, enabled(self.board, "CONFIG_MCUMGR_GRP_IMG_TOO_LARGE_SYSBUILD"))
        self.assertEqual(image.get("max_image_size"), slot - 2 * header_constant("SIM_PAGE_SIZE"))

    def test_factory_image_version(self):
        v = {k: int(n) for k, n in re.findall(r"^(\w+) = (\d+)$", read(os.path.join(FIRMWARE, "VERSION")), re.M)}
        want = "%d.%d.%d+%d" % (v["VERSION_MAJOR"], v["VERSION_MINOR"], v["PATCHLEVEL"], v["VERSION_TWEAK"])
        r = self.smpctl("--json", "image", "list")
        self.assertEqual(r.code, EXIT_OK, r)
        self.assertEqual([i["version"] for i in r.json()["images"] if i["slot"] == 0], [want])

    def test_upload_answers(self):
        """"match" on the last upload answer (image check) and "rsn" in v1 errors (verbose errors)."""
        with tempfile.TemporaryDirectory() as tmp:
            small = mkimage(os.path.join(tmp, "small.bin"), "--size", "8000", "--version", "1.0.1")
            r = self.smpctl("--json", "image", "upload", small)
            self.assertEqual(r.code, EXIT_OK, r)
            self.assertEqual("match" in r.json_lines()[-1], enabled(self.prj, "CONFIG_IMG_ENABLE_IMAGE_CHECK"), r)
            big = mkimage(os.path.join(tmp, "big.bin"), "--size", str(header_constant("SIM_SLOT_SIZE")))
            r = self.smpctl("--json", "--smp-version", "1", "image", "upload", big)
            self.assertEqual(r.code, EXIT_DEVICE, r)
            self.assertEqual("rsn" in r.json_lines()[-1]["device_error"],
                             enabled(self.prj, "CONFIG_MCUMGR_SMP_VERBOSE_ERR_RESPONSE"), r)
        self.assertEqual(sim_default("progressive_erase"), "true" if enabled(self.prj, "CONFIG_IMG_ERASE_PROGRESSIVELY")
                         else "false")

    def test_idle_erase(self):
        """The firmware's idle erase of slot 1 is off unless built in, and so is the simulated device's;
        when on, both wait the same delay by default (Kconfig's SMPCTL_FW_IDLE_ERASE_DELAY_S)."""
        kc = read(os.path.join(FIRMWARE, "Kconfig"))
        option = re.search(r"config SMPCTL_FW_IDLE_ERASE_SECONDARY\n(.*?)\n\n", kc, re.S).group(1)
        self.assertNotIn("default y", option)
        self.assertNotIn("CONFIG_SMPCTL_FW_IDLE_ERASE_SECONDARY", self.board)
        self.assertEqual(sim_default("idle_erase_ms"), "false")
        delay = int(re.search(r"config SMPCTL_FW_IDLE_ERASE_DELAY_S\n.*?default (\d+)", kc, re.S).group(1))
        for sim in (SMPCTL_SIM, SMPCTL_BLUEZ_SIM):
            usage = subprocess.run([sim, "--help"], capture_output=True, text=True, timeout=10).stdout
            self.assertRegex(usage, r"--idle-erase\[=SECONDS\]\s+.*SECONDS \(default %d\)" % delay)

    def test_optional_commands(self):
        self.assertEqual(self.smpctl("settings", "erase").code == EXIT_OK,
                         enabled(self.prj, "CONFIG_MCUMGR_GRP_ZBASIC_STORAGE_ERASE"))
        self.assertEqual(self.smpctl("datetime").code == EXIT_OK, enabled(self.prj, "CONFIG_MCUMGR_GRP_OS_DATETIME"))
        self.assertTrue(enabled(self.board, "CONFIG_MCUMGR_GRP_OS_BOOTLOADER_INFO"))

    def test_groups(self):
        """The statistics, shell, enumeration and file system groups and task stats: on in both or off in both
        (rc 8)."""
        self.assertEqual(self.smpctl("stat", "list").code == EXIT_OK, enabled(self.prj, "CONFIG_MCUMGR_GRP_STAT"))
        self.assertEqual(self.smpctl("taskstat").code == EXIT_OK, enabled(self.prj, "CONFIG_MCUMGR_GRP_OS_TASKSTAT"))
        self.assertEqual(self.smpctl("shell", "exec", "--", "kernel", "version").code == EXIT_OK,
                         enabled(self.prj, "CONFIG_MCUMGR_GRP_SHELL"))
        r = self.smpctl("--json", "groups")
        self.assertEqual(r.code, EXIT_OK, r)
        self.assertEqual(r.json()["source"] == "enumeration", enabled(self.prj, "CONFIG_MCUMGR_GRP_ENUM"), r)
        self.assertEqual(sim_default("stat_sample"), "false")  # the firmware registers no statistics
        self.assertEqual(self.smpctl("fs", "types").code == EXIT_OK, enabled(self.prj, "CONFIG_MCUMGR_GRP_FS"))
        self.assertTrue(enabled(self.sysbuild, "SB_CONFIG_BOOTLOADER_MCUBOOT"))
        self.assertTrue(enabled(self.sysbuild, "SB_CONFIG_MCUBOOT_MODE_SWAP_USING_MOVE"))
        r = self.smpctl("--json", "info")
        self.assertEqual(r.code, EXIT_OK, r)
        self.assertEqual(r.json()["bootloader"], {"name": "MCUboot", "mode": 3, "mode_name": "swap-using-move"})

    def test_list_and_info_variants(self):
        """Frugal image lists, the build date in OS info, MCUboot's downgrade prevention: all off."""
        r = self.smpctl("--json", "image", "list")
        self.assertEqual("split_status" in r.json(), not enabled(self.prj, "CONFIG_MCUMGR_GRP_IMG_FRUGAL_LIST"), r)
        r = self.smpctl("--json", "info", "--format", "b")
        self.assertEqual(r.code == EXIT_OK, enabled(self.prj, "CONFIG_MCUMGR_GRP_OS_INFO_BUILD_DATE_TIME"), r)
        downgrade = any("DOWNGRADE_PREVENTION=y" in read(os.path.join(FIRMWARE, name))
                        for name in ("prj.conf", "sysbuild.conf", "boards/nrf52833dk_nrf52833.conf"))
        r = self.smpctl("--json", "info")
        self.assertEqual(r.json()["bootloader"].get("no_downgrade", False), downgrade, r)

    def test_bluetooth_fragment(self):
        dk = read(os.path.join(FIRMWARE, "boards", "nrf52833dk_nrf52833.conf"))
        custom = read(os.path.join(FIRMWARE, "boards", "custom_nrf52833.conf"))

        def settings(text):
            return [line for line in text.splitlines() if line.startswith("CONFIG_")]
        self.assertEqual(settings(custom), settings(dk), "boards/custom_nrf52833.conf must equal the DK's fragment")
        self.assertTrue(enabled(self.board, "CONFIG_MCUMGR_TRANSPORT_BT_REASSEMBLY"))
        # ATT MTU 498 fits an ACL buffer with its 4-byte L2CAP header; the demo's device has the same name.
        self.assertEqual(self.board["CONFIG_BT_L2CAP_TX_MTU"] + 4, self.board["CONFIG_BT_BUF_ACL_RX_SIZE"])
        self.assertIn("name=%s" % self.board["CONFIG_BT_DEVICE_NAME"], source(".ci", "demo"))

    def test_native_sim_udp(self):
        udp = kconfig("prj.conf", "boards/native_sim_native_64.conf")
        self.assertEqual(udp["CONFIG_MCUMGR_TRANSPORT_UDP_PORT"], 1337)  # smpctl's default port for udp:HOST
        self.assertIn("(port 1337)", run(["--help"]).out)
        self.assertGreaterEqual(udp["CONFIG_MCUMGR_TRANSPORT_UDP_MTU"], udp["CONFIG_MCUMGR_TRANSPORT_NETBUF_SIZE"])


if __name__ == "__main__":
    main()
