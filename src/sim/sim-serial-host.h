/* SPDX-License-Identifier: MIT */
/*
 * The simulated device's serial port: a pseudo-terminal whose slave side a client opens as
 * serial:/dev/pts/N. smpctl-sim hands it the SMP frames to send and gets the SMP frames it received.
 *
 * The UART timing model (console framing, Zephyr 4.1 drivers/console/uart_mcumgr.c):
 * - receive: each line takes one of `rxbufs` buffers of `line` bytes from its first byte until the
 *   work item has decoded it (`line_usec` after the line ended, one line at a time); a line that finds
 *   no free buffer, or that outgrows its buffer, is dropped up to its newline, as uart_mcumgr_rx_byte()
 *   does. Over a UART (the default) bytes reach the device at most at the baud rate, however fast the
 *   pty delivers them; over USB CDC-ACM (usb) as fast as the client writes them, so only the
 *   client's pacing spaces the lines (as on Zephyr's native_sim, whose pty UART has no wire time). The surviving lines are reassembled as serial_util.c does (a packet
 *   larger than the SMP buffer, buf_size - 4 with its length and CRC, is dropped silently).
 * - transmit: the device's frames leave at `baud` (10 bits a byte), one after the other.
 * - a client whose port is set to another baud rate (the pty's termios tell) gets garbage back for
 *   what it sends, and the device understands none of it.
 * Raw and COBS framings have no line buffers in the sources we could read: they are received without
 * that loss model.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "serial-frame.h"
#include "sim-device.h"

typedef struct SimSerialConfig {
	const char *link;       /* NULL: no serial port; "auto": the pty as it is; else a symlink to make */
	SerialFraming framing;
	unsigned baud;          /* the device's UART rate (termios speed the client must set) */
	size_t line;            /* CONFIG_UART_MCUMGR_RX_BUF_SIZE: longest line taken, newline included */
	unsigned rxbufs;        /* CONFIG_UART_MCUMGR_RX_BUF_COUNT */
	uint64_t line_usec;     /* the work item's time to decode one line (lines are decoded one by one) */
	bool usb;               /* bytes arrive as fast as the client writes them (USB CDC-ACM), not at baud */
	size_t buf_size;        /* the device's SMP buffer (MCUmgr params buf_size) */
	double time_scale;      /* 0: the device's transmissions take no time (the receive model keeps
				 * real time: the client paces by the wall clock) */
	bool verbose;
	const char *recovery;   /* NULL, or MCUboot serial recovery with these build options (sim-recovery.h) */
	uint64_t reenumerate_usec; /* >0: at each reset the port goes away this long (USB CDC-ACM) */
	uint64_t unplug_at;     /* >0: once an upload reaches this offset the port goes away once */
	SimDevice *device;      /* the device whose flash MCUboot's recovery writes and which runs after a reset */
} SimSerialConfig;

/* Zephyr 4.1's defaults: console framing, 115200 baud, 2 receive buffers of 128 bytes, and 0.5 ms to
 * decode a line (a model value: a base64 line on a 64 MHz Cortex-M4 plus work-queue latency). */
void sim_serial_config_default(SimSerialConfig *cfg);
/* smpctl-sim's serial options by long name ("serial", "framing", "baud", "line", "rxbufs", "line-us",
 * "link", "recovery", "reenumerate", "unplug-at"):
 * 0 or -EINVAL. sim_serial_usage() prints their help lines. */
int sim_serial_option(SimSerialConfig *cfg, const char *name, const char *value);
void sim_serial_usage(void);

typedef struct SimSerialHost SimSerialHost;
typedef void (*SimSerialFrameFn)(void *userdata, const uint8_t *frame, size_t len);

/* Opens the pty (and the link). The slave's path: sim_serial_host_path(). */
int sim_serial_host_new(sd_event *event, const SimSerialConfig *cfg, SimSerialFrameFn on_frame, void *userdata,
			SimSerialHost **out);
const char *sim_serial_host_path(const SimSerialHost *h);
/* Queues one SMP frame for the wire. */
int sim_serial_host_send(SimSerialHost *h, const uint8_t *frame, size_t len);
/* The port is ready: says where on stderr, and writes the path to ready_file (if any) whole. */
int sim_serial_host_announce(const SimSerialHost *h, const char *ready_file, bool print_path);
/* The device answered a reset: with reenumerate_usec the port goes away once the answer has left, and
 * comes back as a new pty under the same link (USB CDC-ACM re-enumerating). */
void sim_serial_host_reset(SimSerialHost *h);
/* Lines dropped for want of a receive buffer so far. */
uint64_t sim_serial_host_dropped_lines(const SimSerialHost *h);
void sim_serial_host_free(SimSerialHost *h);
