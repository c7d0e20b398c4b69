/* SPDX-License-Identifier: MIT */
/*
 * The user's side of BLE pairing (ISSUE-NOTES 19): lines the agent needs shown ("type 123456 on the
 * device") and, when standard input is a terminal and no --passkey was given, the passkey prompt and
 * the numeric-comparison question. The agent waits for these answers; BlueZ gives it 60 s, and so do we.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ble.h"
#include "cli.h"

#define PROMPT_TIMEOUT_MS 60000 /* BlueZ cancels an agent request after 60 s (src/agent.c) */

static void pairing_notice(const char *line)
{
	cli_status_clear();
	fprintf(stderr, "smpctl: %s\n", line);
}

/* One line from the terminal, waiting at most as long as BlueZ waits for its agent. Polled in slices so
 * that Ctrl-C (blocked, and taken by the event loop's signalfd) still ends the prompt: the signal stays
 * pending and the loop sees it next. read(), not stdio: a terminal gives one line per read. */
static int read_answer(char *line, size_t size)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	sigset_t pending;
	ssize_t n;

	for (int waited_ms = 0; waited_ms < PROMPT_TIMEOUT_MS; waited_ms += 500) {
		sigpending(&pending);
		if (sigismember(&pending, SIGINT) || sigismember(&pending, SIGTERM)) {
			fputs("\n", stderr);
			return -ECANCELED;
		}
		if (poll(&p, 1, 500) == 0)
			continue;
		n = read(STDIN_FILENO, line, size - 1);
		if (n <= 0)
			return -ECANCELED;
		line[n] = '\0';
		line[strcspn(line, "\r\n")] = '\0';
		return 0;
	}
	fputs("\n", stderr);
	return -ETIMEDOUT;
}

static int ask_passkey(const char *who, uint32_t *passkey)
{
	char line[32];

	cli_status_clear();
	for (int tries = 0; tries < 3; tries++) {
		fprintf(stderr, "smpctl: %s asks for the passkey it shows: ", who);
		fflush(stderr);
		if (read_answer(line, sizeof(line)) < 0)
			return -ECANCELED;
		if (ble_passkey_parse(line, passkey) == 0)
			return 0;
		fprintf(stderr, "smpctl: '%s' is not a passkey: type the 6 digits the device shows\n", line);
	}
	return -ECANCELED;
}

static int confirm_number(const char *who, uint32_t number)
{
	char line[32];

	cli_status_clear();
	fprintf(stderr, "smpctl: does %s show %06u? [y/N] ", who, number);
	fflush(stderr);
	if (read_answer(line, sizeof(line)) < 0)
		return 0;
	return line[0] == 'y' || line[0] == 'Y';
}

void cli_setup_pairing(Cli *cli)
{
	cli->transport.notice = pairing_notice;
	if (cli->transport.passkey || !isatty(STDIN_FILENO))
		return;
	cli->transport.ask_passkey = ask_passkey;
	cli->transport.confirm_number = confirm_number;
}
