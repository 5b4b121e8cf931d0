/* SPDX-License-Identifier: MIT */
/*
 * t_loop.c -- unit test of daemon/loop.c, nvmsgd's event loop.
 *
 * Proves: file events fire on readiness with the mask that fired; a mask
 * can be changed, and a quiet (0) mask reports nothing, not even hang-up;
 * an event deleted inside its own callback, or inside another's callback
 * of the same batch (even when its fd number is registered again at once),
 * is never called with stale readiness; one-shot and periodic timers fire
 * in deadline order and never before their deadline; a timer can delete
 * itself or another; a signal sent with kill(getpid()) reaches its
 * callback through the signalfd (even one that is SIG_IGN, as under nohup),
 * and the signal mask is restored afterwards; nvd_loop_stop() ends
 * nvd_loop_run(); an fd at or above max_fds is refused with -ERANGE; the
 * before-sleep hook runs once before each sleep.
 *
 * No assertion depends on how fast the machine is: timing is checked as
 * order and "not before", and every run is ended by an event, not a clock
 * (the watchdog only turns a hang into a failure).
 */
#include "t.h"

#include <fcntl.h>
#include <sys/socket.h>

#include "loop.h"

#define MS (UINT64_C(1000000))

static void
pair(int sv[2])
{
	ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv));
}

static void
put(int fd, const char *s)
{
	ASSERT_EQ(write(fd, s, strlen(s)), (long long)strlen(s));
}

/* drain -- read what FD holds; the number of bytes */
static long
drain(int fd)
{
	char buf[256];
	long total = 0;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += n;
	return total;
}

static void
on_stop_timer(struct nvd_loop *loop, uint64_t id, void *data)
{
	(void)id;
	(void)data;
	nvd_loop_stop(loop);
}

/* run_for -- run LOOP until a one-shot timer stops it after DELAY */
static void
run_for(struct nvd_loop *loop, uint64_t delay_ns)
{
	ASSERT_OK(nvd_loop_timer_add(loop, delay_ns, 0, on_stop_timer, NULL,
				     NULL));
	ASSERT_OK(nvd_loop_run(loop));
}

/* ---- create, close, argument errors, the fd limit ---- */

static void
nop_file(struct nvd_loop *loop, int fd, unsigned mask, void *data)
{
	(void)loop;
	(void)fd;
	(void)mask;
	(void)data;
}

static void
nop_timer(struct nvd_loop *loop, uint64_t id, void *data)
{
	(void)loop;
	(void)id;
	(void)data;
}

static void
test_limits(void)
{
	struct nvd_loop *loop = (struct nvd_loop *)&loop;
	int sv[2], high, closed[2];
	uint64_t t1, t2;
	FILE *reg;

	ASSERT_ERR(nvd_loop_create(0, 4, &loop), -EINVAL);
	ASSERT_TRUE(loop == NULL);
	ASSERT_ERR(nvd_loop_create(4, 0, &loop), -EINVAL);
	ASSERT_ERR(nvd_loop_create((1u << 24) + 1, 4, &loop), -EINVAL);
	nvd_loop_close(NULL);
	nvd_loop_close(&loop);

	ASSERT_OK(nvd_loop_create(64, 2, &loop));
	pair(sv);

	/* the limit: an fd number at or above max_fds is refused */
	high = fcntl(sv[0], F_DUPFD_CLOEXEC, 64);
	ASSERT_TRUE(high >= 64);
	ASSERT_ERR(nvd_loop_file_add(loop, high, NVD_LOOP_READ, nop_file, NULL),
		   -ERANGE);
	ASSERT_ERR(nvd_loop_file_add(loop, 100000, NVD_LOOP_READ, nop_file,
				     NULL),
		   -ERANGE);
	ASSERT_ERR(nvd_loop_file_mod(loop, high, NVD_LOOP_READ), -ENOENT);
	ASSERT_ERR(nvd_loop_file_del(loop, high), -ENOENT);
	close(high);

	ASSERT_ERR(nvd_loop_file_add(loop, -1, NVD_LOOP_READ, nop_file, NULL),
		   -EBADF);
	ASSERT_ERR(nvd_loop_file_add(loop, sv[0], 4, nop_file, NULL), -EINVAL);
	ASSERT_ERR(nvd_loop_file_add(loop, sv[0], NVD_LOOP_READ, NULL, NULL),
		   -EINVAL);
	/* a closed fd in range, with and without a mask */
	ASSERT_OK(pipe(closed));
	close(closed[0]);
	close(closed[1]);
	ASSERT_ERR(nvd_loop_file_add(loop, closed[0], NVD_LOOP_READ, nop_file,
				     NULL),
		   -EBADF);
	ASSERT_ERR(nvd_loop_file_add(loop, closed[1], 0, nop_file, NULL),
		   -EBADF);
	/* epoll cannot watch a regular file */
	reg = tmpfile();
	ASSERT_TRUE(reg != NULL);
	if (fileno(reg) < 64)
		ASSERT_ERR(nvd_loop_file_add(loop, fileno(reg), NVD_LOOP_READ,
					     nop_file, NULL),
			   -EPERM);
	fclose(reg);

	ASSERT_OK(
		nvd_loop_file_add(loop, sv[0], NVD_LOOP_READ, nop_file, NULL));
	ASSERT_ERR(nvd_loop_file_add(loop, sv[0], NVD_LOOP_WRITE, nop_file,
				     NULL),
		   -EEXIST);
	ASSERT_ERR(nvd_loop_file_mod(loop, sv[0], 8), -EINVAL);
	ASSERT_OK(nvd_loop_file_del(loop, sv[0]));
	ASSERT_ERR(nvd_loop_file_del(loop, sv[0]), -ENOENT);
	ASSERT_ERR(nvd_loop_file_mod(loop, sv[0], NVD_LOOP_READ), -ENOENT);
	/* delete after close is accepted: the fd is gone either way */
	ASSERT_OK(
		nvd_loop_file_add(loop, sv[1], NVD_LOOP_READ, nop_file, NULL));
	close(sv[1]);
	ASSERT_OK(nvd_loop_file_del(loop, sv[1]));
	close(sv[0]);

	/* timers: the table is bounded; arguments checked; ids not reused */
	ASSERT_ERR(nvd_loop_timer_add(loop, 0, 0, NULL, NULL, NULL), -EINVAL);
	ASSERT_ERR(nvd_loop_timer_add(loop, NVD_LOOP_MAX_NS + 1, 0, nop_timer,
				      NULL, NULL),
		   -EINVAL);
	ASSERT_ERR(nvd_loop_timer_add(loop, 0, NVD_LOOP_MAX_NS + 1, nop_timer,
				      NULL, NULL),
		   -EINVAL);
	ASSERT_OK(nvd_loop_timer_add(loop, 1000 * MS, 0, nop_timer, NULL, &t1));
	ASSERT_OK(nvd_loop_timer_add(loop, 1000 * MS, 0, nop_timer, NULL, &t2));
	ASSERT_NE(t1, 0);
	ASSERT_NE(t1, t2);
	ASSERT_ERR(nvd_loop_timer_add(loop, 0, 0, nop_timer, NULL, NULL),
		   -ENOSPC);
	ASSERT_OK(nvd_loop_timer_del(loop, t1));
	ASSERT_ERR(nvd_loop_timer_del(loop, t1), -ENOENT);
	ASSERT_ERR(nvd_loop_timer_del(loop, 0), -ENOENT);
	ASSERT_OK(nvd_loop_timer_add(loop, 1000 * MS, 0, nop_timer, NULL, &t1));
	ASSERT_NE(t1, t2);
	ASSERT_OK(nvd_loop_timer_del(loop, t1));
	ASSERT_OK(nvd_loop_timer_del(loop, t2));

	nvd_loop_close(&loop);
	ASSERT_TRUE(loop == NULL);
}

/* ---- file events fire on readiness ---- */

static struct {
	int calls;
	unsigned mask;
	long bytes;
} rd;

static void
on_read(struct nvd_loop *loop, int fd, unsigned mask, void *data)
{
	ASSERT_TRUE(data == &rd);
	rd.calls++;
	rd.mask |= mask;
	rd.bytes += drain(fd);
	if (rd.bytes == 5)
		nvd_loop_stop(loop);
}

static void
test_readiness(void)
{
	struct nvd_loop *loop;
	int sv[2];

	ASSERT_OK(nvd_loop_create(256, 8, &loop));
	pair(sv);
	ASSERT_OK(nvd_loop_file_add(loop, sv[0], NVD_LOOP_READ, on_read, &rd));
	put(sv[1], "hello");
	ASSERT_OK(nvd_loop_run(loop)); /* ended by on_read's stop */
	ASSERT_EQ(rd.bytes, 5);
	ASSERT_EQ(rd.mask, NVD_LOOP_READ);
	ASSERT_TRUE(rd.calls >= 1);
	ASSERT_OK(nvd_loop_file_del(loop, sv[0]));
	close(sv[0]);
	close(sv[1]);
	nvd_loop_close(&loop);
}

/* ---- masks can be changed; a quiet fd reports nothing ---- */

static struct {
	int sv[2];
	int phase;	   /* 0 write, 1 read, 2 quiet, 3 both */
	int calls[4];	   /* per phase */
	unsigned mask[4];  /* what fired, per phase */
	uint64_t write_id; /* the timer that writes in phase 1 */
	int sleeps[4];	   /* before-sleep hooks, per phase */
} mk;

static void
on_mask_hook(struct nvd_loop *loop, void *data)
{
	(void)loop;
	(void)data;
	mk.sleeps[mk.phase]++;
}

static void
on_peer_write(struct nvd_loop *loop, uint64_t id, void *data)
{
	(void)loop;
	(void)id;
	(void)data;
	put(mk.sv[1], "x");
}

static void
on_mask(struct nvd_loop *loop, int fd, unsigned mask, void *data)
{
	(void)data;
	mk.calls[mk.phase]++;
	mk.mask[mk.phase] |= mask;
	switch (mk.phase) {
	case 0: /* writable at once: now wait for data instead */
		ASSERT_OK(nvd_loop_file_mod(loop, fd, NVD_LOOP_READ));
		ASSERT_OK(nvd_loop_timer_add(loop, 2 * MS, 0, on_peer_write,
					     NULL, &mk.write_id));
		mk.phase = 1;
		break;
	case 1: /* data: go quiet, then make the fd readable and hung up */
		ASSERT_EQ(drain(fd), 1);
		ASSERT_OK(nvd_loop_file_mod(loop, fd, 0));
		mk.phase = 2;
		put(mk.sv[1], "yy");
		ASSERT_OK(shutdown(mk.sv[1], SHUT_RDWR));
		ASSERT_OK(nvd_loop_timer_add(loop, 20 * MS, 0, on_stop_timer,
					     NULL, NULL));
		break;
	case 2:
		T_FAILF("a quiet fd fired (mask %u)", mask);
		break;
	default:
		ASSERT_OK(nvd_loop_file_del(loop, fd));
		nvd_loop_stop(loop);
		break;
	}
}

static void
test_masks(void)
{
	struct nvd_loop *loop;

	ASSERT_OK(nvd_loop_create(256, 8, &loop));
	pair(mk.sv);
	ASSERT_OK(nvd_loop_file_add(loop, mk.sv[0], NVD_LOOP_WRITE, on_mask,
				    NULL));
	nvd_loop_before_sleep(loop, on_mask_hook, NULL);
	ASSERT_OK(nvd_loop_run(loop)); /* ended by the 20 ms timer */
	ASSERT_EQ(mk.phase, 2);
	ASSERT_EQ(mk.calls[0], 1);
	ASSERT_EQ(mk.mask[0], NVD_LOOP_WRITE);
	ASSERT_EQ(mk.calls[1], 1);
	ASSERT_EQ(mk.mask[1], NVD_LOOP_READ);
	ASSERT_EQ(mk.calls[2], 0);
	/* quiet, the hung-up fd is out of the epoll set: only the stop timer
	 * wakes the loop (a spinning loop would count thousands) */
	ASSERT_TRUE(mk.sleeps[2] <= 3);
	/* both again: data pending and a hang-up fire READ and WRITE */
	mk.phase = 3;
	ASSERT_OK(nvd_loop_file_mod(loop, mk.sv[0],
				    NVD_LOOP_READ | NVD_LOOP_WRITE));
	ASSERT_OK(nvd_loop_run(loop)); /* ended by on_mask */
	ASSERT_EQ(mk.calls[3], 1);
	ASSERT_EQ(mk.mask[3], NVD_LOOP_READ | NVD_LOOP_WRITE);
	close(mk.sv[0]);
	close(mk.sv[1]);
	nvd_loop_close(&loop);
}

/* ---- deleting inside callbacks ---- */

static int self_calls;

static void
on_self_delete(struct nvd_loop *loop, int fd, unsigned mask, void *data)
{
	(void)mask;
	(void)data;
	self_calls++;
	/* the data stays unread: level-triggered, it would fire again */
	ASSERT_OK(nvd_loop_file_del(loop, fd));
}

static struct {
	int a[2], b[2], empty[2];
	int first_calls; /* on_first, for either fd */
	int stale_calls; /* on_stale: must stay 0 */
	int reused_fd;	 /* the number deleted and registered again */
} dl;

static void
on_stale(struct nvd_loop *loop, int fd, unsigned mask, void *data)
{
	(void)loop;
	(void)data;
	dl.stale_calls++;
	T_FAILF("stale readiness reached fd %d (mask %u)", fd, mask);
}

/* on_first -- whichever of a[0] and b[0] comes first in the batch deletes
 * the other, closes it and registers an empty pipe under its number: the
 * other's readiness, still in the batch, must not reach anyone */
static void
on_first(struct nvd_loop *loop, int fd, unsigned mask, void *data)
{
	int other = fd == dl.a[0] ? dl.b[0] : dl.a[0];

	(void)mask;
	(void)data;
	dl.first_calls++;
	ASSERT_EQ(drain(fd), 1);
	ASSERT_OK(nvd_loop_file_del(loop, fd));
	ASSERT_OK(nvd_loop_file_del(loop, other));
	ASSERT_EQ(dup2(dl.empty[0], other), other); /* closes the socket */
	ASSERT_OK(
		nvd_loop_file_add(loop, other, NVD_LOOP_READ, on_stale, NULL));
	dl.reused_fd = other;
}

static void
test_delete(void)
{
	struct nvd_loop *loop;
	int sv[2];

	ASSERT_OK(nvd_loop_create(256, 8, &loop));

	/* in its own callback */
	pair(sv);
	put(sv[1], "z");
	ASSERT_OK(nvd_loop_file_add(loop, sv[0], NVD_LOOP_READ, on_self_delete,
				    NULL));
	run_for(loop, 20 * MS);
	ASSERT_EQ(self_calls, 1);
	ASSERT_ERR(nvd_loop_file_del(loop, sv[0]), -ENOENT);
	/* and the fd can be registered again */
	ASSERT_OK(nvd_loop_file_add(loop, sv[0], NVD_LOOP_READ, on_self_delete,
				    NULL));
	run_for(loop, 20 * MS);
	ASSERT_EQ(self_calls, 2);
	close(sv[0]);
	close(sv[1]);

	/* in another's callback of the same batch */
	pair(dl.a);
	pair(dl.b);
	ASSERT_OK(pipe(dl.empty));
	put(dl.a[1], "a");
	put(dl.b[1], "b");
	ASSERT_OK(nvd_loop_file_add(loop, dl.a[0], NVD_LOOP_READ, on_first,
				    NULL));
	ASSERT_OK(nvd_loop_file_add(loop, dl.b[0], NVD_LOOP_READ, on_first,
				    NULL));
	run_for(loop, 20 * MS);
	ASSERT_EQ(dl.first_calls, 1);
	ASSERT_EQ(dl.stale_calls, 0);
	ASSERT_OK(nvd_loop_file_del(loop, dl.reused_fd));
	close(dl.a[0]);
	close(dl.a[1]);
	close(dl.b[0]);
	close(dl.b[1]);
	close(dl.empty[0]);
	close(dl.empty[1]);
	nvd_loop_close(&loop);
}

/* ---- timers: order, not before, periodic, deletion ---- */

enum { T_A, T_B, T_C, T_D, T_E, T_Z, T_X0, T_X1, T_X2, T_N };

static struct {
	uint64_t start_ns; /* taken before any timer was added */
	uint64_t delay_ns[T_N];
	uint64_t id[T_N];
	uint64_t at_ns[T_N]; /* when each one-shot fired */
	int calls[T_N];
	int order[T_N]; /* one-shots A, B, C in firing order */
	int norder;
	int xorder[3]; /* X0, X1, X2: due in the same pass */
	int nxorder;
	uint64_t tick_ns[8]; /* the periodic timer's calls */
	int ticks;
	uint64_t period_id;
} tm;

#define PERIOD (4 * MS)
#define TICKS 5

static void
maybe_stop(struct nvd_loop *loop)
{
	if (tm.norder == 3 && tm.nxorder == 3 && tm.ticks == TICKS &&
	    tm.calls[T_D] == 1 && tm.calls[T_Z] == 3)
		nvd_loop_stop(loop);
}

static void
on_oneshot(struct nvd_loop *loop, uint64_t id, void *data)
{
	int k = (int)(intptr_t)data;

	ASSERT_U64_EQ(id, tm.id[k]);
	tm.calls[k]++;
	tm.at_ns[k] = nvd_loop_now_ns();
	if (k == T_A || k == T_B || k == T_C)
		tm.order[tm.norder++] = k;
	if (k >= T_X0)
		tm.xorder[tm.nxorder++] = k;
	/* a one-shot is gone before its callback runs */
	ASSERT_ERR(nvd_loop_timer_del(loop, id), -ENOENT);
	if (k == T_D) /* E is due with D or after it: never fires */
		ASSERT_OK(nvd_loop_timer_del(loop, tm.id[T_E]));
	if (k == T_E)
		T_FAILF("timer E fired after D deleted it");
	if (k == T_Z && tm.calls[T_Z] < 3) /* runs in a later pass */
		ASSERT_OK(nvd_loop_timer_add(loop, 0, 0, on_oneshot, data,
					     &tm.id[T_Z]));
	maybe_stop(loop);
}

static void
on_tick(struct nvd_loop *loop, uint64_t id, void *data)
{
	(void)data;
	ASSERT_U64_EQ(id, tm.period_id);
	ASSERT_TRUE(tm.ticks < TICKS);
	tm.tick_ns[tm.ticks++] = nvd_loop_now_ns();
	if (tm.ticks == TICKS)
		ASSERT_OK(nvd_loop_timer_del(loop, id));
	maybe_stop(loop);
}

static void
add_oneshot(struct nvd_loop *loop, int k, uint64_t delay_ns)
{
	tm.delay_ns[k] = delay_ns;
	ASSERT_OK(nvd_loop_timer_add(loop, delay_ns, 0, on_oneshot,
				     (void *)(intptr_t)k, &tm.id[k]));
}

static void
test_timers(void)
{
	struct nvd_loop *loop;

	ASSERT_OK(nvd_loop_create(16, 16, &loop));
	tm.start_ns = nvd_loop_now_ns();
	add_oneshot(loop, T_A, 30 * MS); /* added out of deadline order */
	add_oneshot(loop, T_B, 10 * MS);
	add_oneshot(loop, T_C, 20 * MS);
	add_oneshot(loop, T_D, 5 * MS);
	add_oneshot(loop, T_E, 5 * MS); /* same delay, added after D */
	add_oneshot(loop, T_Z, 0);
	ASSERT_OK(nvd_loop_timer_add(loop, PERIOD, PERIOD, on_tick, NULL,
				     &tm.period_id));
	/* X0..X2, added against their deadline order, are all due when the
	 * loop first looks: one pass must still run them in deadline order */
	add_oneshot(loop, T_X0, 3 * MS);
	add_oneshot(loop, T_X1, 1 * MS);
	add_oneshot(loop, T_X2, 2 * MS);
	while (nvd_loop_now_ns() < tm.start_ns + 4 * MS)
		usleep(1000);
	ASSERT_OK(nvd_loop_run(loop)); /* ended by the last of them */

	ASSERT_EQ(tm.norder, 3);
	ASSERT_EQ(tm.order[0], T_B);
	ASSERT_EQ(tm.order[1], T_C);
	ASSERT_EQ(tm.order[2], T_A);
	ASSERT_EQ(tm.nxorder, 3);
	ASSERT_EQ(tm.xorder[0], T_X1);
	ASSERT_EQ(tm.xorder[1], T_X2);
	ASSERT_EQ(tm.xorder[2], T_X0);
	for (int k = T_A; k < T_N; k++) {
		if (k == T_E || k == T_Z)
			continue;
		ASSERT_EQ(tm.calls[k], 1);
		if (tm.at_ns[k] < tm.start_ns + tm.delay_ns[k])
			T_FAILF("timer %d fired %" PRIu64 " ns after start, "
				"before its delay %" PRIu64,
				k, tm.at_ns[k] - tm.start_ns, tm.delay_ns[k]);
	}
	ASSERT_EQ(tm.calls[T_E], 0);
	ASSERT_ERR(nvd_loop_timer_del(loop, tm.id[T_E]), -ENOENT);
	ASSERT_EQ(tm.calls[T_Z], 3);
	ASSERT_EQ(tm.ticks, TICKS);
	for (int i = 0; i < TICKS; i++) {
		/* tick i is due at start + (i + 1) periods or later */
		if (tm.tick_ns[i] < tm.start_ns + (uint64_t)(i + 1) * PERIOD)
			T_FAILF("tick %d at %" PRIu64 " ns, before %" PRIu64, i,
				tm.tick_ns[i] - tm.start_ns,
				(uint64_t)(i + 1) * PERIOD);
		if (i > 0)
			ASSERT_TRUE(tm.tick_ns[i] > tm.tick_ns[i - 1]);
	}
	/* the periodic timer deleted itself: no more ticks */
	ASSERT_ERR(nvd_loop_timer_del(loop, tm.period_id), -ENOENT);
	run_for(loop, 3 * PERIOD);
	ASSERT_EQ(tm.ticks, TICKS);
	nvd_loop_close(&loop);
}

/* ---- signals through the signalfd ---- */

static struct {
	int calls[NSIG];
	int last;
} sg;

static void
on_signal(struct nvd_loop *loop, int signo, void *data)
{
	ASSERT_EQ((int)(intptr_t)data, signo);
	ASSERT_TRUE(signo > 0 && signo < NSIG);
	sg.calls[signo]++;
	sg.last = signo;
	if (sg.calls[SIGHUP] && sg.calls[SIGINT] && sg.calls[SIGTERM])
		nvd_loop_stop(loop);
}

static int
is_blocked(int signo)
{
	sigset_t cur;

	ASSERT_EQ(pthread_sigmask(SIG_BLOCK, NULL, &cur), 0);
	return sigismember(&cur, signo);
}

static void
test_signals(void)
{
	static const int sigs[] = { SIGHUP, SIGINT, SIGTERM };
	struct nvd_loop *loop;
	struct sigaction act;

	ASSERT_OK(nvd_loop_create(16, 4, &loop));
	ASSERT_ERR(nvd_loop_signal_add(loop, SIGKILL, on_signal, NULL),
		   -EINVAL);
	ASSERT_ERR(nvd_loop_signal_add(loop, SIGSTOP, on_signal, NULL),
		   -EINVAL);
	ASSERT_ERR(nvd_loop_signal_add(loop, 0, on_signal, NULL), -EINVAL);
	ASSERT_ERR(nvd_loop_signal_add(loop, NSIG, on_signal, NULL), -EINVAL);
	ASSERT_ERR(nvd_loop_signal_add(loop, SIGHUP, NULL, NULL), -EINVAL);
	ASSERT_ERR(nvd_loop_signal_del(loop, SIGHUP), -ENOENT);
	ASSERT_ERR(nvd_loop_signal_del(loop, -3), -EINVAL);

	/* as under nohup: SIGHUP ignored; blocked, it is still queued */
	signal(SIGHUP, SIG_IGN);
	for (int i = 0; i < 3; i++) {
		ASSERT_TRUE(!is_blocked(sigs[i]));
		ASSERT_OK(nvd_loop_signal_add(loop, sigs[i], on_signal,
					      (void *)(intptr_t)sigs[i]));
		ASSERT_TRUE(is_blocked(sigs[i]));
	}
	ASSERT_ERR(nvd_loop_signal_add(loop, SIGHUP, on_signal, NULL), -EEXIST);
	for (int i = 0; i < 3; i++)
		ASSERT_OK(kill(getpid(), sigs[i])); /* pending: blocked */
	ASSERT_OK(nvd_loop_run(loop));		    /* ended by on_signal */
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(sg.calls[sigs[i]], 1);

	/* delete: unblocked again, the disposition untouched */
	ASSERT_OK(nvd_loop_signal_del(loop, SIGHUP));
	ASSERT_ERR(nvd_loop_signal_del(loop, SIGHUP), -ENOENT);
	ASSERT_TRUE(!is_blocked(SIGHUP));
	ASSERT_OK(sigaction(SIGHUP, NULL, &act));
	ASSERT_TRUE(act.sa_handler == SIG_IGN);
	ASSERT_OK(kill(getpid(), SIGHUP)); /* ignored again: harmless */

	/* close restores the others */
	nvd_loop_close(&loop);
	ASSERT_TRUE(!is_blocked(SIGINT));
	ASSERT_TRUE(!is_blocked(SIGTERM));
	signal(SIGHUP, SIG_DFL);
}

/* ---- stop, run, and the before-sleep hook ---- */

static struct {
	int hooks;
	int ticks_at_hook[8];
	int ticks;
	int nested_rc;
} hk;

static void
on_hook(struct nvd_loop *loop, void *data)
{
	ASSERT_TRUE(data == &hk);
	hk.ticks_at_hook[hk.hooks++] = hk.ticks;
	if (hk.hooks == 4)
		nvd_loop_stop(loop);
}

static void
on_hook_tick(struct nvd_loop *loop, uint64_t id, void *data)
{
	(void)id;
	(void)data;
	hk.ticks++;
	hk.nested_rc = nvd_loop_run(loop);
}

static void
test_stop_and_hook(void)
{
	struct nvd_loop *loop;

	ASSERT_OK(nvd_loop_create(16, 4, &loop));
	/* a stop before run: run returns at once (nothing could wake it) */
	nvd_loop_stop(loop);
	ASSERT_OK(nvd_loop_run(loop));

	/* the hook runs before every sleep; each sleep ends with one tick */
	nvd_loop_before_sleep(loop, on_hook, &hk);
	ASSERT_OK(nvd_loop_timer_add(loop, 1 * MS, 1 * MS, on_hook_tick, NULL,
				     NULL));
	ASSERT_OK(nvd_loop_run(loop)); /* ended by the 4th hook */
	ASSERT_EQ(hk.hooks, 4);
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(hk.ticks_at_hook[i], i);
	ASSERT_EQ(hk.ticks, 3); /* stopped in the hook: no 4th sleep */
	ASSERT_ERR(hk.nested_rc, -EBUSY);

	/* the hook removed: a run ended by a timer calls it no more */
	nvd_loop_before_sleep(loop, NULL, NULL);
	run_for(loop, 2 * MS);
	ASSERT_EQ(hk.hooks, 4);
	nvd_loop_close(&loop);
}

int
main(void)
{
	t_watchdog(t_sanitized() ? 50 : 30);
	test_limits();
	test_readiness();
	test_masks();
	test_delete();
	test_timers();
	test_signals();
	test_stop_and_hook();
	printf("t_loop: ok\n");
	return T_PASS;
}
