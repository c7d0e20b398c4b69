/* SPDX-License-Identifier: MIT */
/* The request/response engine over a scripted transport: matching, timeouts, late answers, version
 * fallback, malformed answers, several frames in one datagram, link loss. */
#include <errno.h>
#include <string.h>

#include "smp-client.h"
#include "tap.h"
#include "util.h"

/* What the scripted device answers to the next request. */
typedef enum Script {
	ANSWER_OK,       /* {} with the request's header, op + 1 */
	ANSWER_V1,       /* same, but with a v1 header (a legacy server) */
	ANSWER_NOTHING,  /* silence */
	ANSWER_GARBAGE,  /* a body that is not CBOR */
	ANSWER_WRONG_SEQ,/* {} for seq + 1 */
	ANSWER_TWO_IN_ONE, /* a stale frame then the real answer, in one datagram */
	ANSWER_RC8,      /* {"rc": 8} */
	ANSWER_LOSE_LINK,
} Script;

static Script script;
static SmpHeader last_request;
static uint8_t held[64];
static size_t held_len;
static Transport *scripted;

static int fake_init(Transport *t, const char *rest, char *err, size_t err_size)
{
	(void)rest; (void)err; (void)err_size;
	scripted = t;
	return 0;
}

static int fake_open(Transport *t)
{
	t->events.opened(t->userdata, 0);
	return 0;
}

static size_t answer(const SmpHeader *req, uint8_t version, uint8_t seq, const uint8_t *body, size_t body_len,
		     uint8_t *out)
{
	SmpHeader h = *req;

	h.op = (uint8_t)(req->op + 1);
	h.version = version;
	h.seq = seq;
	h.len = (uint16_t)body_len;
	smp_header_encode(&h, out);
	memcpy(out + SMP_HEADER_SIZE, body, body_len);
	return SMP_HEADER_SIZE + body_len;
}

static int fake_send(Transport *t, const uint8_t *frame, size_t len)
{
	static const uint8_t empty[] = { 0xbf, 0xff }, rc8[] = { 0xbf, 0x62, 'r', 'c', 0x08, 0xff };
	static const uint8_t garbage[] = { 0xbf, 0x62, 'r' };
	uint8_t out[64];
	size_t n = 0;

	(void)len;
	smp_header_decode(frame, len, &last_request);
	switch (script) {
	case ANSWER_OK: n = answer(&last_request, last_request.version, last_request.seq, empty, 2, out); break;
	case ANSWER_V1: n = answer(&last_request, 0, last_request.seq, empty, 2, out); break;
	case ANSWER_GARBAGE: n = answer(&last_request, 1, last_request.seq, garbage, sizeof(garbage), out); break;
	case ANSWER_WRONG_SEQ: n = answer(&last_request, 1, (uint8_t)(last_request.seq + 1), empty, 2, out); break;
	case ANSWER_RC8: n = answer(&last_request, 1, last_request.seq, rc8, sizeof(rc8), out); break;
	case ANSWER_TWO_IN_ONE:
		n = answer(&last_request, 1, (uint8_t)(last_request.seq - 1), empty, 2, out);
		n += answer(&last_request, 1, last_request.seq, empty, 2, out + n);
		break;
	case ANSWER_LOSE_LINK: t->events.lost(t->userdata, -ECONNRESET); return 0;
	case ANSWER_NOTHING: held_len = answer(&last_request, 1, last_request.seq, empty, 2, held); return 0;
	}
	t->events.frame(t->userdata, out, n);
	return 0;
}

static void fake_close(Transport *t) { (void)t; }
static void fake_free(Transport *t) { (void)t; }
static size_t fake_max_frame(Transport *t) { (void)t; return 4096; }

static const TransportOps fake_ops = {
	.scheme = "fake", .usage = "fake:", .init = fake_init, .open = fake_open, .send = fake_send,
	.close = fake_close, .free = fake_free, .max_frame = fake_max_frame,
};

static SmpClient *client_new(sd_event **event)
{
	TransportOptions o = { .ops = &fake_ops };
	SmpClient *c = NULL;
	char err[128];

	CHECK_INT(sd_event_new(event), 0);
	CHECK_INT(smp_client_new(*event, "fake:x", &o, &c, err, sizeof(err)), 0);
	CHECK_INT(smp_client_open(c, 1000000), 0);
	return c;
}

static int call(SmpClient *c, SmpResponse *rsp)
{
	static const uint8_t body[] = { 0xa0 };
	SmpRequest req = { .op = SMP_OP_READ, .group = SMP_GROUP_OS, .id = SMP_OS_PARAMS, .body = body, .body_len = 1 };

	return smp_client_call(c, &req, 50 * 1000, rsp);
}

/* A matching answer completes the call with an OK status; the request went out as SMP v2. */
static void test_answer_matches(void)
{
	sd_event *e;
	SmpClient *c = client_new(&e);
	SmpResponse rsp;

	script = ANSWER_OK;
	CHECK_INT(call(c, &rsp), 0);
	CHECK_INT(rsp.status.kind, SMP_STATUS_OK);
	CHECK_INT(last_request.version, SMP_VERSION_2);
	smp_response_clear(&rsp);
	smp_client_free(c);
	sd_event_unref(e);
}

/* A v1 answer to a v2 request switches the client to v1. */
static void test_falls_back_to_v1(void)
{
	sd_event *e;
	SmpClient *c = client_new(&e);
	SmpResponse rsp;

	script = ANSWER_V1;
	CHECK_INT(call(c, &rsp), 0);
	smp_response_clear(&rsp);
	CHECK_INT(smp_client_version(c), SMP_VERSION_1);
	CHECK_INT(call(c, &rsp), 0);
	CHECK_INT(last_request.version, SMP_VERSION_1);
	smp_response_clear(&rsp);
	smp_client_free(c);
	sd_event_unref(e);
}

/* Silence ends in -ETIMEDOUT; an answer with the wrong sequence number is not taken for ours. */
static void test_timeout_and_wrong_seq(void)
{
	sd_event *e;
	SmpClient *c = client_new(&e);
	SmpResponse rsp;

	script = ANSWER_NOTHING;
	CHECK_INT(call(c, &rsp), -ETIMEDOUT);
	script = ANSWER_WRONG_SEQ;
	CHECK_INT(call(c, &rsp), -ETIMEDOUT);
	CHECK_INT(smp_client_in_flight(c), 0);
	smp_client_free(c);
	sd_event_unref(e);
}

static unsigned late_count;
static void on_late(void *userdata, uint8_t seq, SmpResponse *rsp)
{
	(void)userdata; (void)rsp;
	CHECK_INT(seq, last_request.seq);
	late_count++;
}

/* An answer arriving after the timeout reaches the late handler, once. */
static void test_late_answer(void)
{
	sd_event *e;
	SmpClient *c = client_new(&e);
	SmpResponse rsp;

	smp_client_set_late_handler(c, on_late, NULL);
	script = ANSWER_NOTHING;
	CHECK_INT(call(c, &rsp), -ETIMEDOUT);
	scripted->events.frame(scripted->userdata, held, held_len);
	scripted->events.frame(scripted->userdata, held, held_len);
	CHECK_INT(late_count, 1);
	smp_client_free(c);
	sd_event_unref(e);
}

static int rearm_result;
static void on_rearmed(void *userdata, int err, SmpResponse *rsp)
{
	(void)rsp;
	rearm_result = err;
	*(bool *)userdata = true;
}

/* smp_client_rearm() moves a pending request's deadline: a 60 s wait rearmed to 20 ms times out at once,
 * and a sequence number that is not pending is -ENOENT. */
static void test_rearm(void)
{
	static const uint8_t body[] = { 0xa0 };
	SmpRequest req = { .op = SMP_OP_READ, .group = SMP_GROUP_OS, .id = SMP_OS_PARAMS, .body = body, .body_len = 1 };
	sd_event *e;
	SmpClient *c = client_new(&e);
	bool done = false;
	uint64_t started = now_usec();
	uint8_t seq;

	script = ANSWER_NOTHING;
	CHECK_INT(smp_client_submit(c, &req, 60ull * 1000 * 1000, on_rearmed, &done, &seq), 0);
	CHECK_INT(smp_client_rearm(c, seq, 20 * 1000), 0);
	CHECK_INT(smp_client_rearm(c, (uint8_t)(seq + 1), 20 * 1000), -ENOENT);
	CHECK_INT(smp_client_run_until(c, &done), 0);
	CHECK_INT(rearm_result, -ETIMEDOUT);
	CHECK(now_usec() - started < 5ull * 1000 * 1000);
	smp_client_free(c);
	sd_event_unref(e);
}

/* A body that is not CBOR is -EBADMSG, not a crash or a hang. */
static void test_garbage_answer(void)
{
	sd_event *e;
	SmpClient *c = client_new(&e);
	SmpResponse rsp;

	script = ANSWER_GARBAGE;
	CHECK_INT(call(c, &rsp), -EBADMSG);
	smp_client_free(c);
	sd_event_unref(e);
}

/* Two frames in one datagram: the stale one is skipped, ours is found. */
static void test_two_frames_in_one_datagram(void)
{
	sd_event *e;
	SmpClient *c = client_new(&e);
	SmpResponse rsp;

	script = ANSWER_TWO_IN_ONE;
	CHECK_INT(call(c, &rsp), 0);
	smp_response_clear(&rsp);
	smp_client_free(c);
	sd_event_unref(e);
}

/* A device error comes back as status, the call itself succeeds. */
static void test_device_error_status(void)
{
	sd_event *e;
	SmpClient *c = client_new(&e);
	SmpResponse rsp;

	script = ANSWER_RC8;
	CHECK_INT(call(c, &rsp), 0);
	CHECK_INT(rsp.status.kind, SMP_STATUS_RC);
	CHECK_INT(rsp.status.rc, 8);
	smp_response_clear(&rsp);
	smp_client_free(c);
	sd_event_unref(e);
}

/* Losing the link fails the pending request with -ECONNRESET and closes the client. */
static void test_link_lost(void)
{
	sd_event *e;
	SmpClient *c = client_new(&e);
	SmpResponse rsp;

	script = ANSWER_LOSE_LINK;
	CHECK_INT(call(c, &rsp), -ECONNRESET);
	CHECK(!smp_client_is_open(c));
	CHECK_INT(call(c, &rsp), -ENOTCONN);
	smp_client_free(c);
	sd_event_unref(e);
}

int main(void)
{
	static const TapTest tests[] = {
		TAP_TEST(test_answer_matches),
		TAP_TEST(test_falls_back_to_v1),
		TAP_TEST(test_timeout_and_wrong_seq),
		TAP_TEST(test_late_answer),
		TAP_TEST(test_rearm),
		TAP_TEST(test_garbage_answer),
		TAP_TEST(test_two_frames_in_one_datagram),
		TAP_TEST(test_device_error_status),
		TAP_TEST(test_link_lost),
	};
	return tap_run(tests, ARRAY_SIZE(tests));
}
