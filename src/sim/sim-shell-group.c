/* SPDX-License-Identifier: MIT */
/* The shell group (9) of the simulated device: Zephyr 4.1's shell_mgmt.c over the dummy shell backend,
 * with a few of the kernel shell's commands. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sim-internal.h"
#include "smp-error.h"
#include "util.h"

enum {
	SHELL_ERR_COMMAND_TOO_LONG = 2, /* SHELL_MGMT_ERR_COMMAND_TOO_LONG */
	SHELL_ERR_EMPTY_COMMAND = 3,
	SHELL_CMD_BUFF_SIZE = 256,      /* CONFIG_SHELL_CMD_BUFF_SIZE's default */
	SHELL_OUTPUT_MAX = 1024,        /* CONFIG_SHELL_BACKEND_DUMMY_BUF_SIZE's default */
	ENOEXEC_ZEPHYR = 8,             /* shell_execute_cmd(): unknown command */
	EINVAL_ZEPHYR = 22,             /* wrong parameter count */
};

/* What the dummy backend collects: the shell writes "\r\n" first, and errors in red (VT100). */
static int run_line(const char *line, char *out, size_t size)
{
	char word[SHELL_CMD_BUFF_SIZE + 1] = "", arg[SHELL_CMD_BUFF_SIZE + 1] = "";
	int n = sscanf(line, "kernel %256s %256s", word, arg);

	if (n >= 1 && strcmp(word, "version") == 0) {
		snprintf(out, size, "\r\nZephyr version 4.1.0\r\n");
		return 0;
	}
	if (n >= 1 && strcmp(word, "sleep") == 0 && n == 1) {
		snprintf(out, size, "\r\n\033[1;31msleep: wrong parameter count\r\n\033[msleep - ms\r\n");
		return -EINVAL_ZEPHYR;
	}
	if (n == 2 && strcmp(word, "sleep") == 0) {
		snprintf(out, size, "\r\n");
		return 0;
	}
	sscanf(line, "%256s", word);
	snprintf(out, size, "\r\n\033[1;31m%s: command not found\r\n\033[m", word);
	return -ENOEXEC_ZEPHYR;
}

/* shell_mgmt_exec(): the "argv" text strings joined with spaces into a line of CONFIG_SHELL_CMD_BUFF_SIZE;
 * a non-text element ends the list; nothing composed is EMPTY_COMMAND; no "argv" array is rc 3. */
static SimStatus shell_exec(const SimRequest *req, SmpCborWriter *w)
{
	char line[SHELL_CMD_BUFF_SIZE + 1], out[SHELL_OUTPUT_MAX];
	const cbor_item_t *argv = req->body ? smp_cbor_map_get(req->body, "argv") : NULL;
	size_t len = 0;
	int ret;

	if (!argv || !cbor_isa_array(argv))
		return SIM_RC(SMP_RC_EINVAL);
	for (size_t i = 0; i < cbor_array_size(argv); i++) {
		const cbor_item_t *v = cbor_array_handle(argv)[i];
		size_t n;

		if (!cbor_isa_string(v) || !cbor_string_is_definite(v))
			break;
		n = cbor_string_length(v);
		if (len + n >= sizeof(line) - 1)
			return SIM_GROUP_ERR(SMP_GROUP_SHELL, SHELL_ERR_COMMAND_TOO_LONG);
		memcpy(line + len, cbor_string_handle(v), n);
		len += n + 1;
		line[len - 1] = ' ';
	}
	if (len == 0)
		return SIM_GROUP_ERR(SMP_GROUP_SHELL, SHELL_ERR_EMPTY_COMMAND);
	line[len - 1] = '\0';
	ret = run_line(line, out, sizeof(out));
	smp_cbor_put_text(w, "o");
	smp_cbor_put_text(w, out);
	smp_cbor_put_text(w, "ret");
	smp_cbor_put_int(w, ret);
	return SIM_OK;
}

/* One command, write only (shell_mgmt_handlers[]). */
SimStatus sim_shell_handle(SimDevice *dev, const SimRequest *req, SmpCborWriter *w)
{
	if (!dev->cfg.shell || req->header->id != SMP_SHELL_EXEC || req->header->op != SMP_OP_WRITE)
		return SIM_RC(SMP_RC_ENOTSUP);
	return shell_exec(req, w);
}
