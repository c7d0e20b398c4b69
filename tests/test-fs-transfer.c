/* SPDX-License-Identifier: MIT */
/* fs downloads against the simulated device's file system group in-process: requests for successive
 * chunks in flight, answers out of order or lost, short last chunks, a file written meanwhile. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs-transfer.h"
#include "mgmt.h"
#include "sim-loop.h"
#include "smp.h"
#include "tap.h"
#include "util.h"

#define FILE_MAX 65535u   /* CONFIG_MCUMGR_GRP_FS_MAX_FILE_SIZE_64KB */
#define CHUNK (2475u - 44u) /* buf_size less fs_mgmt_config.h's CBOR_AND_OTHER_HDR (MAX_OFFSET_LEN 3) */
#define REMOTE "/lfs1/data.bin"

static uint8_t data[FILE_MAX];

typedef struct Run {
	sd_event *event;
	Device *d;
	uint8_t *out;
	size_t out_len;
	FsTransferResult res;
	unsigned requests;     /* download requests sent */
	int r;
} Run;

static void fill_data(size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		data[i] = (uint8_t)(i * 31u + seed + (i >> 8));
}

/* A device holding REMOTE with len bytes of data, put there by an fs upload. */
static void run_setup(Run *run, size_t len)
{
	SimConfig cfg;
	FsTransferResult up;

	memset(run, 0, sizeof(*run));
	fill_data(len, 7);
	sim_config_default(&cfg);
	cfg.fs = true;
	CHECK_INT(sd_event_new(&run->event), 0);
	CHECK_INT(sim_loop_device(run->event, &cfg, &run->d), 0);
	CHECK_INT(fs_upload_run(run->d, REMOTE, data, len, 0, NULL, NULL, &up), 0);
}

static void run_download(Run *run)
{
	unsigned before = sim_loop_stats()->requests;

	run->r = fs_download_run(run->d, REMOTE, FILE_MAX, &run->out, &run->out_len, NULL, NULL, &run->res);
	run->requests = sim_loop_stats()->requests - before;
}

static void run_teardown(Run *run)
{
	if (run->r == 0)
		free(run->out);
	device_free(run->d);
	sd_event_unref(run->event);
}

static void check_got(const Run *run, size_t len)
{
	CHECK_INT(run->r, 0);
	CHECK_INT(run->out_len, len);
	CHECK_INT(run->res.bytes, len);
	if (run->r == 0 && run->out_len == len)
		CHECK_MEM(run->out, data, len);
}

static void ignore_answer(void *userdata, const uint8_t *frame, size_t len)
{
	(void)userdata, (void)frame, (void)len;
}

/* Another client writes REMOTE anew with len bytes (fs_mgmt.c keeps one open file: the download's is
 * closed, and the next download request opens the file as it is now). */
static void device_write_file(size_t len)
{
	static uint8_t frame[SMP_HEADER_SIZE + 2400];

	for (size_t off = 0; off < len; off += 2000) {
		MgmtFsChunk c = { .name = REMOTE, .off = off, .len = len, .data = data + off,
				  .data_len = MIN((size_t)2000, len - off) };
		int n = mgmt_build_fs_upload(frame + SMP_HEADER_SIZE, sizeof(frame) - SMP_HEADER_SIZE, &c);
		SmpHeader h = { .op = SMP_OP_WRITE, .version = 1, .len = (uint16_t)n, .group = SMP_GROUP_FS,
				.id = SMP_FS_FILE, .seq = 200 };

		CHECK(n > 0);
		smp_header_encode(&h, frame);
		sim_device_process(sim_loop_sim(), frame, SMP_HEADER_SIZE + (size_t)n, ignore_answer, NULL);
	}
}

/* A clean download keeps the device's window of requests in flight and asks each chunk once. */
static void test_download_is_pipelined(void)
{
	Run run;

	run_setup(&run, 20000);
	run_download(&run);
	check_got(&run, 20000);
	CHECK_INT(sim_loop_stats()->max_outstanding, 3);
	CHECK_INT(run.requests, (20000 + CHUNK - 1) / CHUNK);
	CHECK_INT(run.res.resends, 0);
	run_teardown(&run);
}

/* Lengths around the chunk: the last answer short, exactly one chunk, less than one, nothing. */
static void test_download_lengths(void)
{
	static const size_t lengths[] = { 0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 17, 60 * 1024 };

	for (size_t i = 0; i < ARRAY_SIZE(lengths); i++) {
		Run run;

		run_setup(&run, lengths[i]);
		run_download(&run);
		check_got(&run, lengths[i]);
		CHECK_INT(run.requests, lengths[i] ? (lengths[i] + CHUNK - 1) / CHUNK : 1);
		run_teardown(&run);
	}
}

/* Answers that come in another order than asked are kept where they belong: nothing is asked twice. */
static void test_download_out_of_order(void)
{
	Run run;

	run_setup(&run, 40000);
	sim_loop_faults()->reverse_answers = true;
	run_download(&run);
	check_got(&run, 40000);
	CHECK_INT(run.requests, (40000 + CHUNK - 1) / CHUNK);
	CHECK_INT(run.res.resends, 0);
	run_teardown(&run);
}

/* Lost requests or answers: each missing chunk is asked again once the window has drained, the chunks
 * that came after it are not. */
static void test_download_losses(void)
{
	static const struct { unsigned drop_every; bool reverse; } cases[] = { { 4, false }, { 3, true }, { 7, true } };

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		unsigned chunks = (40000 + CHUNK - 1) / CHUNK;
		Run run;

		run_setup(&run, 40000);
		sim_loop_faults()->drop_every = cases[i].drop_every;
		sim_loop_faults()->reverse_answers = cases[i].reverse;
		run_download(&run);
		check_got(&run, 40000);
		CHECK(run.res.resends > 0);
		/* Every lost request is sent again, and nothing else: each answer that came is used. */
		CHECK(run.requests <= chunks + chunks / (cases[i].drop_every - 1) + 2);
		run_teardown(&run);
	}
}

static void write_at(unsigned n, void *userdata)
{
	const size_t *when_len = userdata;

	if (n == when_len[0])
		device_write_file(when_len[1]);
}

/* The file is written anew (a first chunk with data truncates it, fs_mgmt.c) while it is read: shorter or longer than its first answer said, the
 * download stops and says so instead of waiting for chunks that never come or cutting the file. */
static void test_download_file_changes(void)
{
	static const size_t new_lengths[] = { 30000, 5000, 45000 };

	for (size_t i = 0; i < ARRAY_SIZE(new_lengths); i++) {
		size_t when_len[2];
		Run run;

		run_setup(&run, 40000);
		when_len[0] = sim_loop_stats()->requests + 4;
		when_len[1] = new_lengths[i];
		sim_loop_faults()->before_request = write_at;
		sim_loop_faults()->before_request_userdata = when_len;
		run_download(&run);
		CHECK_INT(run.r, FS_FILE_CHANGED);
		run_teardown(&run);
	}
}

int main(void)
{
	static const TapTest tests[] = {
		TAP_TEST(test_download_is_pipelined),
		TAP_TEST(test_download_lengths),
		TAP_TEST(test_download_out_of_order),
		TAP_TEST(test_download_losses),
		TAP_TEST(test_download_file_changes),
	};
	return tap_run(tests, ARRAY_SIZE(tests));
}
