#!/usr/bin/env python3
"""Writes the seed corpora of the codec fuzzers: the captured frames of tests/vectors/seed-frames.json
(bodies for fuzz-smp-cbor, whole frames for fuzz-smp-response) and hostile inputs kept as regressions.

Run from anywhere: python3 tests/fuzz/gen-corpus.py. The output is committed; rerun after the vectors change.
"""
import json
import os

here = os.path.dirname(os.path.abspath(__file__))
frames = json.load(open(os.path.join(here, '..', 'vectors', 'seed-frames.json')))

# Hostile CBOR bodies (ISSUE-NOTES 5 first): each must be refused without a large allocation.
hostile = {
    'issue-notes-5-1gib': '9b0000000008000000',     # array of 2^27 items: 1 GiB of pointers in libcbor 0.8
    'array-2e35': '9b0000000800000000',
    'map-2e32-pairs': 'bb000000010000000062726308',
    'text-4gib': 'a16372736e7affffffff',
    'deep-nesting': '81' * 20 + '00',
    'chunked-text': 'bf6372736e7f6266726261 6dff62726309ff'.replace(' ', ''),
    'duplicate-keys': 'bf627263086272630 0ff'.replace(' ', ''),
    'float-as-bool': 'a16174f93c00',            # libcbor 0.8's cbor_is_bool() aborts on a float
    'tagged-values': 'a2627263c108636f6666c11a00010000',
}


def write(target, name, data):
    d = os.path.join(here, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


# Well-formed answers that the captures lack: image slot info (group 1, command 6) as Zephyr 4.1's
# img_mgmt_slot_info() writes it for the nRF52833 layout.
shaped = {
    'slot-info': (1, 6, 'bf 66696d61676573 9f bf 65696d616765 00 65736c6f7473 9f'
                        ' bf 64736c6f74 00 6473697a65 1a00037000 ff'
                        ' bf 64736c6f74 01 6473697a65 1a00037000 6f75706c6f61645f696d6167655f6964 00 ff'
                        ' ff ff ff ff'),
}

for i, frame in enumerate(frames):
    raw = bytes.fromhex(frame['hex'])
    write('fuzz-smp-cbor', 'seed-%d' % i, raw[8:])
    write('fuzz-smp-response', 'seed-%d' % i, raw)

for name, body_hex in hostile.items():
    body = bytes.fromhex(body_hex)
    write('fuzz-smp-cbor', name, body)
    # A v1 read response of the os group carrying it (header of REFERENCE.md §1).
    header = bytes([0x01, 0x00, len(body) >> 8, len(body) & 0xff, 0x00, 0x00, 0x00, 0x06])
    write('fuzz-smp-response', name, header + body)

for name, (group, command, body_hex) in shaped.items():
    body = bytes.fromhex(body_hex.replace(' ', ''))
    write('fuzz-smp-cbor', name, body)
    # A v2 read response (REFERENCE.md §1).
    header = bytes([0x09, 0x00, len(body) >> 8, len(body) & 0xff, group >> 8, group & 0xff, 0x00, command])
    write('fuzz-smp-response', name, header + body)


# fuzz-ble-rx: the captured responses as notifications of MTU - 3 bytes (498: the stand-in's default MTU;
# 20: the minimum), each [length, big endian][bytes]; one with a notification lost in the middle.
def notifications(frame, size):
    return b''.join(len(frame[i:i + size]).to_bytes(2, 'big') + frame[i:i + size] for i in range(0, len(frame), size))


for i, frame in enumerate(frames):
    raw = bytes.fromhex(frame['hex'])
    if raw[0] & 0x07 not in (1, 3):  # responses only: a server never notifies a request
        continue
    write('fuzz-ble-rx', 'seed-%d-mtu498' % i, notifications(raw, 495))
    write('fuzz-ble-rx', 'seed-%d-mtu23' % i, notifications(raw, 20))
    if len(raw) > 40:
        parts = notifications(raw, 20)
        write('fuzz-ble-rx', 'seed-%d-lost-one' % i, parts[:22] + parts[44:] + notifications(raw, 495))
