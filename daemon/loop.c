/* SPDX-License-Identifier: MIT */
/*
 * loop.c -- nvmsgd's event loop (loop.h): an epoll set watched by one
 * thread, file events kept in a table indexed by fd number, timers in a
 * fixed table behind one timerfd, signals read from one signalfd.
 *
 * Invariants:
 * - All memory is allocated by nvd_loop_create(); nothing grows later.
 * - An fd is in the epoll set iff it is registered with a non-zero mask
 *   (a quiet fd is taken out, or its error and hang-up would spin the
 *   level-triggered loop).
 * - The timerfd is armed (absolute CLOCK_MONOTONIC) at the earliest
 *   deadline of the live timers, or disarmed when there are none; armed_ns
 *   mirrors what the kernel holds, so it is re-armed only on a change.
 * - Nothing but epoll_wait(2) blocks: the timerfd and signalfd are
 *   non-blocking and are read once per readiness.
 *
 * Stale readiness.  epoll_wait(2) returns a batch of ready fds, and the
 * callbacks of that batch may delete fds whose readiness is still to be
 * dispatched, close them, and register a new fd that the kernel gives the
 * same number.  Each registration therefore gets a generation (files[fd]
 * .gen, bumped on every add) and the epoll data carries it next to the fd;
 * readiness whose generation is not the fd's current one is dropped, and
 * what fired is masked with the mask registered now, so a callback never
 * sees readiness it no longer asked for.  ae.c meets the same problem with
 * its per-iteration epoch filter; a generation is exact and costs nothing.
 */
#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_TABLE (1u << 24) /* max_fds and max_timers; fd and slot bits */
#define SLOT_BITS 24	     /* timer id: creation sequence << 24 | slot */
#define MAX_FIRED 512u	     /* epoll_event entries per epoll_wait */

/* epoll data of the loop's own fds; a user fd's data is gen << 32 | fd,
 * and an fd below 1 << 24 never has these low 32 bits */
#define TAG_TIMER UINT64_MAX
#define TAG_SIGNAL (UINT64_MAX - 1)

struct file_ev {
	nvd_file_fn *fn; /* callback; valid while registered */
	void *data;	 /* the caller's, passed back */
	unsigned mask;	 /* NVD_LOOP_READ | NVD_LOOP_WRITE asked for now */
	uint32_t gen;	 /* bumped on every add (see "Stale readiness") */
	bool registered; /* between file_add and file_del */
	bool in_epoll;	 /* registered with a non-zero mask */
};

struct timer {
	uint64_t id;	    /* sequence << SLOT_BITS | slot; 0: free */
	uint64_t when_ns;   /* next deadline, CLOCK_MONOTONIC */
	uint64_t period_ns; /* 0: one-shot */
	nvd_timer_fn *fn;
	void *data;
};

struct due {
	uint64_t when_ns; /* sort key, then id (creation order) */
	uint64_t id;
};

struct sig_ev {
	nvd_signal_fn *fn;
	void *data;
	bool live;
	bool unblock_on_del; /* it was not blocked before signal_add */
};

struct nvd_loop {
	int epfd;	       /* the epoll set */
	int timerfd;	       /* armed at the earliest deadline */
	int sigfd;	       /* reads the signals of sigmask */
	unsigned max_fds;      /* files[] entries; fds at or above refused */
	struct file_ev *files; /* indexed by fd */
	struct epoll_event *fired; /* epoll_wait's output */
	unsigned nfired;	   /* fired[] entries */
	unsigned max_timers;	   /* timers[] and due[] entries */
	unsigned ntimers;	   /* live timers */
	unsigned timer_hw;	   /* slots at or above are free */
	struct timer *timers;	   /* slot table */
	struct due *due;	   /* run_timers' snapshot */
	uint64_t next_seq;	   /* the next timer's creation sequence */
	uint64_t armed_ns;	   /* the timerfd's deadline; 0: disarmed */
	sigset_t sigmask;	   /* the signals the signalfd reads */
	struct sig_ev sigs[NSIG];  /* indexed by signal number */
	nvd_hook_fn *before_sleep; /* the hook, or NULL */
	void *before_sleep_data;   /* its argument */
	bool stop;		   /* set by nvd_loop_stop */
	bool no_sleep;		   /* set by nvd_loop_no_sleep */
	bool running;		   /* inside nvd_loop_run */
};

uint64_t
nvd_loop_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* watch -- add, change or remove FD in the epoll set, tagged with GEN */
static int
watch(struct nvd_loop *loop, int op, int fd, unsigned mask, uint32_t gen)
{
	struct epoll_event ev = { 0 };

	if (mask & NVD_LOOP_READ)
		ev.events |= EPOLLIN;
	if (mask & NVD_LOOP_WRITE)
		ev.events |= EPOLLOUT;
	ev.data.u64 = (uint64_t)gen << 32 | (uint32_t)fd;
	if (epoll_ctl(loop->epfd, op, fd, &ev) < 0)
		return -errno;
	return 0;
}

static int
watch_own(struct nvd_loop *loop, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	return 0;
}

int
nvd_loop_create(unsigned max_fds, unsigned max_timers, struct nvd_loop **out)
{
	struct nvd_loop *loop;
	int err;

	*out = NULL;
	if (max_fds == 0 || max_fds > MAX_TABLE || max_timers == 0 ||
	    max_timers > MAX_TABLE)
		return -EINVAL;
	loop = calloc(1, sizeof(*loop));
	if (!loop)
		return -ENOMEM;
	loop->epfd = loop->timerfd = loop->sigfd = -1;
	loop->max_fds = max_fds;
	loop->max_timers = max_timers;
	loop->nfired = (max_fds < MAX_FIRED ? max_fds : MAX_FIRED) + 2;
	loop->next_seq = 1;
	sigemptyset(&loop->sigmask);
	loop->files = calloc(max_fds, sizeof(*loop->files));
	loop->fired = calloc(loop->nfired, sizeof(*loop->fired));
	loop->timers = calloc(max_timers, sizeof(*loop->timers));
	loop->due = calloc(max_timers, sizeof(*loop->due));
	err = -ENOMEM;
	if (!loop->files || !loop->fired || !loop->timers || !loop->due)
		goto fail;

	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0)
		goto fail_errno;
	loop->timerfd =
		timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (loop->timerfd < 0)
		goto fail_errno;
	loop->sigfd = signalfd(-1, &loop->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (loop->sigfd < 0)
		goto fail_errno;
	err = watch_own(loop, loop->timerfd, TAG_TIMER);
	if (err < 0)
		goto fail;
	err = watch_own(loop, loop->sigfd, TAG_SIGNAL);
	if (err < 0)
		goto fail;
	*out = loop;
	return 0;

fail_errno:
	err = -errno;
fail:
	nvd_loop_close(&loop);
	return err;
}

void
nvd_loop_close(struct nvd_loop **loopp)
{
	struct nvd_loop *loop = loopp ? *loopp : NULL;

	if (!loop)
		return;
	for (int s = 1; s < NSIG; s++) {
		if (loop->sigs[s].live)
			nvd_loop_signal_del(loop, s);
	}
	if (loop->sigfd >= 0)
		close(loop->sigfd);
	if (loop->timerfd >= 0)
		close(loop->timerfd);
	if (loop->epfd >= 0)
		close(loop->epfd);
	free(loop->due);
	free(loop->timers);
	free(loop->fired);
	free(loop->files);
	free(loop);
	*loopp = NULL;
}

void
nvd_loop_stop(struct nvd_loop *loop)
{
	loop->stop = true;
}

void
nvd_loop_no_sleep(struct nvd_loop *loop)
{
	loop->no_sleep = true;
}

void
nvd_loop_before_sleep(struct nvd_loop *loop, nvd_hook_fn *fn, void *data)
{
	loop->before_sleep = fn;
	loop->before_sleep_data = data;
}

/* ------------------------------------------------------------------ */
/* file events */

int
nvd_loop_file_add(struct nvd_loop *loop, int fd, unsigned mask, nvd_file_fn *fn,
		  void *data)
{
	struct file_ev *fe;
	uint32_t gen;
	int err;

	if (fd < 0)
		return -EBADF;
	if ((unsigned)fd >= loop->max_fds)
		return -ERANGE;
	if ((mask & ~(NVD_LOOP_READ | NVD_LOOP_WRITE)) || !fn)
		return -EINVAL;
	fe = &loop->files[fd];
	if (fe->registered)
		return -EEXIST;
	gen = fe->gen + 1;
	if (mask) {
		err = watch(loop, EPOLL_CTL_ADD, fd, mask, gen);
		if (err < 0)
			return err;
	} else if (fcntl(fd, F_GETFD) < 0) {
		return -errno;
	}
	fe->fn = fn;
	fe->data = data;
	fe->mask = mask;
	fe->gen = gen;
	fe->registered = true;
	fe->in_epoll = mask != 0;
	return 0;
}

int
nvd_loop_file_mod(struct nvd_loop *loop, int fd, unsigned mask)
{
	struct file_ev *fe;
	int err = 0;

	if (fd < 0 || (unsigned)fd >= loop->max_fds ||
	    !loop->files[fd].registered)
		return -ENOENT;
	if (mask & ~(NVD_LOOP_READ | NVD_LOOP_WRITE))
		return -EINVAL;
	fe = &loop->files[fd];
	if (mask && fe->in_epoll)
		err = watch(loop, EPOLL_CTL_MOD, fd, mask, fe->gen);
	else if (mask)
		err = watch(loop, EPOLL_CTL_ADD, fd, mask, fe->gen);
	else if (fe->in_epoll)
		err = watch(loop, EPOLL_CTL_DEL, fd, 0, fe->gen);
	if (err < 0)
		return err;
	fe->mask = mask;
	fe->in_epoll = mask != 0;
	return 0;
}

int
nvd_loop_file_del(struct nvd_loop *loop, int fd)
{
	struct file_ev *fe;

	if (fd < 0 || (unsigned)fd >= loop->max_fds ||
	    !loop->files[fd].registered)
		return -ENOENT;
	fe = &loop->files[fd];
	/* an error here means FD is already closed (EBADF), or closed and
	 * so dropped from the set (ENOENT): either way it is gone */
	if (fe->in_epoll)
		(void)watch(loop, EPOLL_CTL_DEL, fd, 0, fe->gen);
	fe->registered = false;
	fe->in_epoll = false;
	fe->mask = 0;
	fe->fn = NULL;
	fe->data = NULL;
	return 0;
}

/* dispatch_file -- one entry of epoll_wait's batch (see "Stale
 * readiness" at the top of this file) */
static void
dispatch_file(struct nvd_loop *loop, const struct epoll_event *ev)
{
	uint64_t tag = ev->data.u64;
	uint32_t fd = (uint32_t)tag;
	struct file_ev *fe;
	unsigned fired = 0;

	if (fd >= loop->max_fds)
		return;
	fe = &loop->files[fd];
	if (!fe->registered || fe->gen != (uint32_t)(tag >> 32))
		return;
	if (ev->events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		fired |= NVD_LOOP_READ;
	if (ev->events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
		fired |= NVD_LOOP_WRITE;
	fired &= fe->mask;
	if (fired)
		fe->fn(loop, (int)fd, fired, fe->data);
}

/* ------------------------------------------------------------------ */
/* time events */

static struct timer *
timer_find(struct nvd_loop *loop, uint64_t id)
{
	uint64_t slot = id & ((UINT64_C(1) << SLOT_BITS) - 1);

	if (id == 0 || slot >= loop->timer_hw || loop->timers[slot].id != id)
		return NULL;
	return &loop->timers[slot];
}

int
nvd_loop_timer_add(struct nvd_loop *loop, uint64_t delay_ns, uint64_t period_ns,
		   nvd_timer_fn *fn, void *data, uint64_t *id)
{
	struct timer *t;
	unsigned slot;

	if (!fn || delay_ns > NVD_LOOP_MAX_NS || period_ns > NVD_LOOP_MAX_NS)
		return -EINVAL;
	if (loop->ntimers == loop->max_timers)
		return -ENOSPC;
	for (slot = 0; loop->timers[slot].id != 0; slot++)
		;
	t = &loop->timers[slot];
	t->id = loop->next_seq++ << SLOT_BITS | slot;
	t->when_ns = nvd_loop_now_ns() + delay_ns;
	t->period_ns = period_ns;
	t->fn = fn;
	t->data = data;
	loop->ntimers++;
	if (slot >= loop->timer_hw)
		loop->timer_hw = slot + 1;
	if (id)
		*id = t->id;
	return 0;
}

static void
timer_free(struct nvd_loop *loop, struct timer *t)
{
	memset(t, 0, sizeof(*t));
	loop->ntimers--;
	while (loop->timer_hw > 0 && loop->timers[loop->timer_hw - 1].id == 0)
		loop->timer_hw--;
}

int
nvd_loop_timer_del(struct nvd_loop *loop, uint64_t id)
{
	struct timer *t = timer_find(loop, id);

	if (!t)
		return -ENOENT;
	timer_free(loop, t);
	return 0;
}

static int
due_cmp(const void *a, const void *b)
{
	const struct due *x = a, *y = b;

	if (x->when_ns != y->when_ns)
		return x->when_ns < y->when_ns ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * run_timers -- call the timers due now, in deadline order.  The due set is
 * a snapshot taken first, so a callback that adds a timer (even due at
 * once) cannot keep this pass going forever, and each entry is looked up
 * again by id before its call, so a timer deleted by an earlier callback
 * of the pass is skipped.  The table scan is O(max live slot): the daemon
 * keeps a few timers per link, where a heap would not pay for itself.
 */
static void
run_timers(struct nvd_loop *loop)
{
	uint64_t now = nvd_loop_now_ns();
	unsigned n = 0;

	for (unsigned i = 0; i < loop->timer_hw; i++) {
		struct timer *t = &loop->timers[i];

		if (t->id != 0 && t->when_ns <= now) {
			loop->due[n].when_ns = t->when_ns;
			loop->due[n].id = t->id;
			n++;
		}
	}
	if (n > 1)
		qsort(loop->due, n, sizeof(loop->due[0]), due_cmp);
	for (unsigned i = 0; i < n; i++) {
		uint64_t id = loop->due[i].id;
		struct timer *t = timer_find(loop, id);
		nvd_timer_fn *fn;
		void *data;

		if (!t)
			continue;
		fn = t->fn;
		data = t->data;
		if (t->period_ns == 0) {
			timer_free(loop, t);
		} else {
			/* the first deadline after now on the timer's own
			 * grid: missed periods are skipped, never bunched */
			uint64_t missed = (now - t->when_ns) / t->period_ns;

			t->when_ns += (missed + 1) * t->period_ns;
		}
		fn(loop, id, data);
	}
}

/* arm_timer -- point the timerfd at the earliest deadline (or disarm it) */
static int
arm_timer(struct nvd_loop *loop)
{
	struct itimerspec its = { 0 };
	uint64_t next = 0;

	for (unsigned i = 0; i < loop->timer_hw; i++) {
		const struct timer *t = &loop->timers[i];

		if (t->id != 0 && (next == 0 || t->when_ns < next))
			next = t->when_ns;
	}
	if (next == loop->armed_ns)
		return 0;
	its.it_value.tv_sec = (time_t)(next / 1000000000u);
	its.it_value.tv_nsec = (long)(next % 1000000000u);
	if (timerfd_settime(loop->timerfd, next ? TFD_TIMER_ABSTIME : 0, &its,
			    NULL) < 0)
		return -errno;
	loop->armed_ns = next;
	return 0;
}

/* timer_fired -- the timerfd expired: drain it; it is re-armed before the
 * next sleep (the due timers run at the end of this iteration) */
static int
timer_fired(struct nvd_loop *loop)
{
	uint64_t expirations;

	if (read(loop->timerfd, &expirations, sizeof(expirations)) < 0 &&
	    errno != EAGAIN && errno != EINTR)
		return -errno;
	loop->armed_ns = 0;
	return 0;
}

/* ------------------------------------------------------------------ */
/* signal events */

int
nvd_loop_signal_add(struct nvd_loop *loop, int signo, nvd_signal_fn *fn,
		    void *data)
{
	struct sig_ev *se;
	sigset_t one;
	sigset_t old;
	int err;

	if (signo <= 0 || signo >= NSIG || signo == SIGKILL ||
	    signo == SIGSTOP || !fn)
		return -EINVAL;
	se = &loop->sigs[signo];
	if (se->live)
		return -EEXIST;
	sigemptyset(&one);
	if (sigaddset(&one, signo) < 0) /* glibc's reserved signals */
		return -EINVAL;
	/* the disposition is left alone: Linux queues a blocked signal even
	 * when it is SIG_IGN (as nohup leaves SIGHUP), so the signalfd sees
	 * it (POSIX leaves that open; t_loop checks it) */
	err = pthread_sigmask(SIG_BLOCK, &one, &old);
	if (err)
		return -err;
	se->unblock_on_del = !sigismember(&old, signo);
	sigaddset(&loop->sigmask, signo);
	if (signalfd(loop->sigfd, &loop->sigmask, 0) < 0) {
		err = -errno;
		sigdelset(&loop->sigmask, signo);
		if (se->unblock_on_del)
			pthread_sigmask(SIG_UNBLOCK, &one, NULL);
		return err;
	}
	se->fn = fn;
	se->data = data;
	se->live = true;
	return 0;
}

int
nvd_loop_signal_del(struct nvd_loop *loop, int signo)
{
	struct sig_ev *se;
	sigset_t one;

	if (signo <= 0 || signo >= NSIG)
		return -EINVAL;
	se = &loop->sigs[signo];
	if (!se->live)
		return -ENOENT;
	sigdelset(&loop->sigmask, signo);
	(void)signalfd(loop->sigfd, &loop->sigmask, 0);
	if (se->unblock_on_del) {
		sigemptyset(&one);
		sigaddset(&one, signo);
		(void)pthread_sigmask(SIG_UNBLOCK, &one, NULL);
	}
	memset(se, 0, sizeof(*se));
	return 0;
}

/* signals_fired -- read what the signalfd holds (one read a readiness:
 * bounded work; what is left fires again) and call the callbacks */
static int
signals_fired(struct nvd_loop *loop)
{
	struct signalfd_siginfo si[8];
	ssize_t got = read(loop->sigfd, si, sizeof(si));

	if (got < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	for (size_t i = 0; i < (size_t)got / sizeof(si[0]); i++) {
		int signo = (int)si[i].ssi_signo;

		/* a callback may have deleted a later signal's event */
		if (signo > 0 && signo < NSIG && loop->sigs[signo].live)
			loop->sigs[signo].fn(loop, signo,
					     loop->sigs[signo].data);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* the loop */

/* iterate -- one sleep and what it woke up for */
static int
iterate(struct nvd_loop *loop)
{
	int err = arm_timer(loop);
	int n;

	if (err < 0)
		return err;
	/* a hook that asked not to sleep (polling for work epoll cannot
	 * see) gets a non-blocking look at the fds */
	n = epoll_wait(loop->epfd, loop->fired, (int)loop->nfired,
		       loop->no_sleep ? 0 : -1);
	loop->no_sleep = false;
	if (n < 0) {
		if (errno != EINTR)
			return -errno;
		n = 0;
	}
	for (int i = 0; i < n; i++) {
		const struct epoll_event *ev = &loop->fired[i];

		if (ev->data.u64 == TAG_TIMER)
			err = timer_fired(loop);
		else if (ev->data.u64 == TAG_SIGNAL)
			err = signals_fired(loop);
		else
			dispatch_file(loop, ev);
		if (err < 0)
			return err;
	}
	run_timers(loop);
	return 0;
}

int
nvd_loop_run(struct nvd_loop *loop)
{
	int err = 0;

	if (loop->running)
		return -EBUSY;
	loop->running = true;
	while (!loop->stop) {
		if (loop->before_sleep) {
			loop->before_sleep(loop, loop->before_sleep_data);
			if (loop->stop)
				break;
		}
		err = iterate(loop);
		if (err < 0)
			break;
	}
	loop->stop = false;
	loop->running = false;
	return err;
}
