"""Fidelity of the BlueZ stand-in, judged by an independent BlueZ client: Debian's python3-bleak scans,
connects, reads the MTU as smpclient does (AcquireWrite, then closes the fd), subscribes, writes an SMP
echo without response and receives the answer as notifications (BLUEZ.md §9)."""
import asyncio
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import *  # noqa: E402,F403

CHAR = "da2e7828-fbce-4e01-ae9e-261174997c48"

try:
    from bleak import BleakClient, BleakScanner
except ImportError:
    BleakClient = None


def echo_frame(text):
    body = bytes([0xa1, 0x61, ord("d"), 0x60 + len(text)]) + text.encode()
    return struct.pack(">BBHHBB", 2 | (1 << 3), 0, len(body), 0, 42, 0) + body


async def exchange(address):
    device = await BleakScanner.find_device_by_address(address, timeout=5.0)
    if device is None:
        raise AssertionError("bleak did not find the device while scanning")
    async with BleakClient(device) as client:
        await client._backend._acquire_mtu()  # what smpclient does on BlueZ
        mtu = client.mtu_size
        answer = bytearray()
        done = asyncio.Event()

        def on_notify(_, data):
            answer.extend(data)
            if len(answer) >= 8 and len(answer) >= 8 + struct.unpack(">H", answer[2:4])[0]:
                done.set()

        await client.start_notify(CHAR, on_notify)
        await client.write_gatt_char(CHAR, echo_frame("bleak says hi"), response=False)
        await asyncio.wait_for(done.wait(), 5.0)
        await client.stop_notify(CHAR)
        return mtu, bytes(answer)


class Bleak(unittest.TestCase):
    def test_bleak_talks_to_the_stand_in(self):
        if BleakClient is None:
            if os.environ.get("CI") == "true":
                self.fail("python3-bleak is missing: .ci/install-deps installs it")
            self.skipTest("python3-bleak is not installed")
        with BluezSim("--mtu", "247") as b:
            os.environ.update(b.env)
            mtu, answer = asyncio.run(exchange("C0:FF:EE:00:00:01"))
        self.assertEqual(mtu, 247)
        self.assertEqual(answer[0] & 0x07, 3)          # write response
        self.assertEqual(answer[6], 42)                # our sequence number
        self.assertIn(b"bleak says hi", answer[8:])    # {"r": "bleak says hi"}


if __name__ == "__main__":
    main()
