/* SPDX-License-Identifier: MIT */
/* One smpctl at a time changes a device: a lock file per device, held with flock(2) (smpctl(1) FILES). */
#pragma once

#include "cli.h"

/* Takes the lock of --device without waiting, into cli->lock_fd, and writes this process's pid into it.
 * Returns 0, or an exit code after one line: EXIT_LOCKED when another process holds it, naming its pid. */
int cli_lock_device(Cli *cli);
