/* SPDX-License-Identifier: MIT */
/*
 * Fibers with ucontext (makecontext/swapcontext, POSIX.1-2001, kept by glibc) on stacks from mmap with a
 * guard page below them. AddressSanitizer is told about every switch (sanitizer/common_interface_defs.h),
 * otherwise it takes the other stack for an overflow of this one.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "fiber.h"
#include "util.h"

#if defined(__SANITIZE_ADDRESS__)
#define FIBER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FIBER_ASAN 1
#endif
#endif

#ifdef FIBER_ASAN
#include <sanitizer/common_interface_defs.h>
#define asan_start_switch(save, bottom, size) __sanitizer_start_switch_fiber(save, bottom, size)
#define asan_finish_switch(save, bottom, size) __sanitizer_finish_switch_fiber(save, bottom, size)
#else
#define asan_start_switch(save, bottom, size) ((void)(save), (void)(bottom), (void)(size))
#define asan_finish_switch(save, bottom, size) ((void)(save), (void)(bottom), (void)(size))
#endif

/* Valgrind takes a jump to another stack for a huge stack frame unless the stack is registered. */
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define stack_register(start, end) VALGRIND_STACK_REGISTER(start, end)
#define stack_deregister(id) VALGRIND_STACK_DEREGISTER(id)
#else
#define stack_register(start, end) ((void)(start), (void)(end), 0u)
#define stack_deregister(id) ((void)(id))
#endif

/* The deepest path (dfu_run → upload → device calls → CBOR) uses well under 64 KiB; sanitizers grow
 * frames several times. Pages are only backed once touched, so a generous size costs address space. */
#define FIBER_STACK_SIZE (4u << 20)

typedef struct Fiber {
	ucontext_t context;
	void *mapping;        /* guard page + stack */
	size_t mapping_size;
	void (*fn)(void *arg);
	void *arg;
	bool started, done;
	void *asan_fake_stack;
	unsigned valgrind_stack;
} Fiber;

struct FiberSet {
	sd_event *event;
	void (*after_turn)(void *userdata);
	void *userdata;
	Fiber **fibers;
	size_t count, capacity;
	ucontext_t scheduler;
	const void *scheduler_stack; /* for the sanitizer: where a fiber switches back to */
	size_t scheduler_stack_size;
	void *scheduler_fake_stack;
};

static __thread FiberSet *running_set;
static __thread Fiber *running_fiber;

bool fiber_current(void)
{
	return running_fiber != NULL;
}

int fiber_set_new(sd_event *event, void (*after_turn)(void *userdata), void *userdata, FiberSet **out)
{
	FiberSet *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->event = sd_event_ref(event);
	s->after_turn = after_turn;
	s->userdata = userdata;
	*out = s;
	return 0;
}

static void fiber_unmap(Fiber *f)
{
	if (!f->mapping)
		return;
	stack_deregister(f->valgrind_stack);
	munmap(TAKE_PTR(f->mapping), f->mapping_size);
}

static void fiber_free(Fiber *f)
{
	fiber_unmap(f);
	free(f);
}

void fiber_set_free(FiberSet *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->count; i++)
		fiber_free(s->fibers[i]);
	free(s->fibers);
	sd_event_unref(s->event);
	free(s);
}

/* makecontext passes int arguments only: the fiber to start is the running one. */
static void fiber_entry(void)
{
	FiberSet *s = running_set;
	Fiber *f = running_fiber;

	asan_finish_switch(NULL, &s->scheduler_stack, &s->scheduler_stack_size);
	f->fn(f->arg);
	f->done = true;
	asan_start_switch(NULL, s->scheduler_stack, s->scheduler_stack_size); /* this stack is finished */
	/* returning resumes uc_link: the scheduler */
}

int fiber_spawn(FiberSet *s, void (*fn)(void *arg), void *arg)
{
	long page = sysconf(_SC_PAGESIZE);
	Fiber *f;

	if (s->count == s->capacity) {
		size_t capacity = s->capacity ? 2 * s->capacity : 8;
		Fiber **fibers = reallocarray(s->fibers, capacity, sizeof(*fibers));

		if (!fibers)
			return -ENOMEM;
		s->fibers = fibers;
		s->capacity = capacity;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->fn = fn;
	f->arg = arg;
	f->mapping_size = FIBER_STACK_SIZE + (size_t)page;
	f->mapping = mmap(NULL, f->mapping_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
			  MAP_STACK, -1, 0);
	if (f->mapping == MAP_FAILED) {
		f->mapping = NULL;
		fiber_free(f);
		return -ENOMEM;
	}
	/* The lowest page stays unmapped in effect: an overflow faults instead of writing over the heap. */
	if (mprotect(f->mapping, (size_t)page, PROT_NONE) < 0 || getcontext(&f->context) < 0) {
		fiber_free(f);
		return -errno;
	}
	f->context.uc_stack.ss_sp = (uint8_t *)f->mapping + page;
	f->context.uc_stack.ss_size = FIBER_STACK_SIZE;
	f->valgrind_stack = stack_register(f->context.uc_stack.ss_sp, (uint8_t *)f->mapping + f->mapping_size);
	f->context.uc_link = &s->scheduler;
	makecontext(&f->context, fiber_entry, 0);
	s->fibers[s->count++] = f;
	return 0;
}

static void fiber_resume(FiberSet *s, Fiber *f)
{
	running_set = s;
	running_fiber = f;
	f->started = true;
	asan_start_switch(&s->scheduler_fake_stack, f->context.uc_stack.ss_sp, f->context.uc_stack.ss_size);
	swapcontext(&s->scheduler, &f->context);
	asan_finish_switch(s->scheduler_fake_stack, NULL, NULL);
	running_fiber = NULL;
	running_set = NULL;
}

/* Gives every live fiber its turn. Returns how many are still alive; *changed tells whether one started
 * or ended, after which the others look again before the loop may block (one may wait for the other). */
static size_t fiber_round(FiberSet *s, bool *changed)
{
	size_t alive = 0;

	*changed = false;
	for (size_t i = 0; i < s->count; i++) {
		Fiber *f = s->fibers[i];

		if (f->done)
			continue;
		*changed |= !f->started;
		fiber_resume(s, f);
		if (f->done) {
			*changed = true;
			fiber_unmap(f); /* the stack is no longer needed */
		} else {
			alive++;
		}
	}
	return alive;
}

int fiber_set_run(FiberSet *s)
{
	bool changed;
	int r = 0;

	while (fiber_round(s, &changed) > 0) {
		if (changed)
			continue;
		r = sd_event_run(s->event, UINT64_MAX);
		if (r < 0)
			break;
		r = 0;
		if (s->after_turn)
			s->after_turn(s->userdata);
	}
	return r;
}

int loop_turn(sd_event *event)
{
	FiberSet *s = running_set;
	Fiber *f = running_fiber;
	int r;

	if (!f || s->event != event) {
		r = sd_event_run(event, UINT64_MAX);
		return r < 0 ? r : 0;
	}
	asan_start_switch(&f->asan_fake_stack, s->scheduler_stack, s->scheduler_stack_size);
	swapcontext(&f->context, &s->scheduler);
	asan_finish_switch(f->asan_fake_stack, &s->scheduler_stack, &s->scheduler_stack_size);
	return 0;
}
