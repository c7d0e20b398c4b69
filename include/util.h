/* SPDX-License-Identifier: MIT */
/* Small helpers shared by every module: ownership cleanup, hex, bounded copies. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd) { if (*fd >= 0) close(*fd); }
#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)

/* Steal ownership: returns the pointer and clears the variable so cleanup skips it. */
#define TAKE_PTR(p) ({ __typeof__(p) _p = (p); (p) = NULL; _p; })
#define TAKE_FD(fd) ({ int _fd = (fd); (fd) = -1; _fd; })

/* Lowercase hex of len bytes into out (size >= 2*len+1). Returns out. */
char *hex_encode(const uint8_t *data, size_t len, char *out);
/* Parses an even-length hex string (either case) into out; returns byte count or -EINVAL. */
int hex_decode(const char *text, uint8_t *out, size_t out_size);
/* The value of one hex digit (either case), or -1. */
int hex_digit(char c);

/* Monotonic clock in microseconds. */
uint64_t now_usec(void);

/* Reads a whole file into a malloc'd buffer, refusing files over max_size (-EFBIG). */
int read_file_bounded(const char *path, size_t max_size, uint8_t **out, size_t *out_len);

/* smpctl's directory for lock files: $XDG_RUNTIME_DIR/smpctl, or /tmp/smpctl-$UID without one; made
 * 0700 if missing, refused (-EPERM) when it is not ours alone. */
int runtime_dir(char *out, size_t size);
/* FNV-1a, 32 bits: a short stable tag for a longer name (a bus address in a lock file's name). */
uint32_t fnv1a32(const char *text);
