#!/usr/bin/env python3
"""Turns tests/vectors/seed-frames.json (frames captured from a real nRF52833) into a C table.

Each body is rendered as canonical JSON (sorted keys, no spaces; byte strings as {"bytes_hex": "..."}),
which tests compare against their own rendering of the decoded CBOR.
"""
import json
import sys

src, dst = sys.argv[1], sys.argv[2]
frames = json.load(open(src))


def c_str(s):
    return '"' + s.replace('\\', '\\\\').replace('"', '\\"') + '"'


out = ['/* Generated from vectors/seed-frames.json by gen-seed-frames.py. Do not edit. */',
       '#pragma once', '#include <stdint.h>', '#include <stddef.h>', '',
       'typedef struct SeedFrame {',
       '\tconst char *what;', '\tint tx;', '\tconst char *hex;',
       '\tuint8_t op, version, flags; uint16_t len, group; uint8_t seq, id;',
       '\tconst char *body_json;', '} SeedFrame;', '',
       'static const SeedFrame seed_frames[] = {']
for f in frames:
    h = f['header']
    body = json.dumps(f['body'], sort_keys=True, separators=(',', ':'))
    out.append('\t{ %s, %d, %s, %d, %d, %d, %d, %d, %d, %d, %s },' % (
        c_str(f['what']), 1 if f['direction'] == 'tx' else 0, c_str(f['hex']),
        h['op'], h['version'], h['flags'], h['len'], h['group'], h['seq'], h['id'], c_str(body)))
out.append('};')
out.append('')
open(dst, 'w').write('\n'.join(out) + '\n')
