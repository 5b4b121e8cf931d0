/* SPDX-License-Identifier: MIT */
/*
 * loop.h -- nvmsgd's event loop: one thread, one epoll set, and three kinds
 * of event registered on it by the daemon's other modules (file events,
 * time events, signal events), plus a hook run before each sleep.
 *
 * The shape is Redis's ae.c: the loop knows nothing about links, bridges,
 * clients or metrics; each of those is a module that registers callbacks.
 * Everything here runs on the thread that calls nvd_loop_run(); no call is
 * thread-safe and none may be made from a signal handler.  Nothing blocks
 * inside the loop except epoll_wait(2), and a callback must not block
 * either (no blocking read, connect, fsync or sleep): it does a bounded
 * amount of work and returns, registering further events if it needs to.
 *
 * Callbacks may add, change and delete any event, including the one being
 * dispatched: an event deleted (or an fd deleted and registered again)
 * while a batch of readiness is being dispatched is never called with the
 * stale readiness.  See docs/DAEMON.md for the design.
 *
 * Errors are return values: 0 or a negative errno, each listed below.  The
 * module never prints, never exits and never asserts on its input.
 */
#ifndef NVD_LOOP_H
#define NVD_LOOP_H

#include <stdint.h>

struct nvd_loop;

/* file event masks: what to wait for, and what fired */
#define NVD_LOOP_READ 1u  /* readable; also set on error and hang-up */
#define NVD_LOOP_WRITE 2u /* writable; also set on error and hang-up */

/* the longest delay or period a timer accepts (about 146 years) */
#define NVD_LOOP_MAX_NS (UINT64_C(1) << 62)

/*
 * nvd_file_fn -- FD is ready: MASK holds what fired, a subset of the mask
 * registered now (NVD_LOOP_READ, NVD_LOOP_WRITE or both; both are set when
 * the kernel reports an error or a hang-up, so that the read or write the
 * callback attempts returns it).  DATA is the pointer given at
 * registration.  The loop is level-triggered: an fd still readable after
 * the callback returns fires again in the next iteration.
 */
typedef void nvd_file_fn(struct nvd_loop *loop, int fd, unsigned mask,
			 void *data);

/* nvd_timer_fn -- the timer ID is due (not before its deadline) */
typedef void nvd_timer_fn(struct nvd_loop *loop, uint64_t id, void *data);

/* nvd_signal_fn -- signal SIGNO was delivered (through the signalfd) */
typedef void nvd_signal_fn(struct nvd_loop *loop, int signo, void *data);

/* nvd_hook_fn -- the before-sleep hook */
typedef void nvd_hook_fn(struct nvd_loop *loop, void *data);

/*
 * nvd_loop_create -- a new loop in *OUT (NULL on failure).
 *
 * MAX_FDS bounds the file table, as ae.c's setsize: an fd number at or
 * above it is refused by nvd_loop_file_add() with -ERANGE.  Size it from
 * RLIMIT_NOFILE (the daemon's own fds count too: an fd's number, not a
 * count of events, is what is checked).  MAX_TIMERS bounds the timers alive
 * at once.  Memory is allocated here, once: the loop never grows.
 *
 * Errors: -EINVAL (MAX_FDS or MAX_TIMERS is 0, or above 1 << 24), -ENOMEM,
 * and the errors of epoll_create1(2), timerfd_create(2) and signalfd(2)
 * (-EMFILE, -ENFILE, -ENOMEM).
 */
int nvd_loop_create(unsigned max_fds, unsigned max_timers,
		    struct nvd_loop **out);

/*
 * nvd_loop_close -- free *LOOP and set it to NULL; NULL is accepted.
 * Signals blocked by nvd_loop_signal_add() are unblocked (as by
 * nvd_loop_signal_del()); registered fds are not closed (they belong to
 * whoever registered them).  Never from a callback.
 */
void nvd_loop_close(struct nvd_loop **loop);

/*
 * nvd_loop_run -- dispatch events until nvd_loop_stop() is called; then
 * return 0.  Each iteration: the before-sleep hook, epoll_wait(2), the
 * file (and signal) events that fired, then the timers that are due.
 * A stop requested during an iteration ends the run when that iteration
 * is done; a stop requested before the call makes it return at once.
 *
 * Errors: -EBUSY (called from a callback of this loop), or an unexpected
 * failure of epoll_wait(2), timerfd_settime(2) or read(2) on the loop's
 * own fds (the loop is then left as it was; run may be called again).
 */
int nvd_loop_run(struct nvd_loop *loop);

/* nvd_loop_stop -- make nvd_loop_run() return (see above) */
void nvd_loop_stop(struct nvd_loop *loop);

/*
 * nvd_loop_before_sleep -- FN(loop, DATA) is called at the start of every
 * iteration, before the loop sleeps in epoll_wait(2): the place to flush
 * what the iteration's callbacks batched up.  It may register events and
 * may stop the loop (then the loop does not sleep).  NULL removes it.
 */
void nvd_loop_before_sleep(struct nvd_loop *loop, nvd_hook_fn *fn, void *data);

/*
 * nvd_loop_no_sleep -- the coming epoll_wait(2) of this iteration does not
 * block (timeout 0): for a before-sleep hook that polls something epoll
 * cannot watch (a shared-memory ring) and found work, or is spinning.
 * The timers and fds are still served as usual.
 */
void nvd_loop_no_sleep(struct nvd_loop *loop);

/*
 * nvd_loop_file_add -- call FN(loop, FD, fired, DATA) when FD is ready for
 * what MASK asks (NVD_LOOP_READ, NVD_LOOP_WRITE, both, or 0: registered
 * but quiet).  FD stays owned by the caller, who must delete the event
 * before closing FD.
 *
 * Errors: -EBADF (FD negative, or not open), -ERANGE (FD >= max_fds of
 * nvd_loop_create), -EEXIST (FD already registered), -EINVAL (unknown bits
 * in MASK, or FN NULL), -EPERM (FD is a regular file or a directory, which
 * epoll cannot watch), -ENOMEM, -ENOSPC (epoll's max_user_watches).
 */
int nvd_loop_file_add(struct nvd_loop *loop, int fd, unsigned mask,
		      nvd_file_fn *fn, void *data);

/*
 * nvd_loop_file_mod -- FD registered with nvd_loop_file_add() now waits
 * for MASK instead (0: quiet, kept registered; error and hang-up are not
 * reported either, so a quiet fd never spins the loop).
 *
 * Errors: -ENOENT (FD not registered, or out of range), -EINVAL (unknown
 * bits in MASK), and the errors of epoll_ctl(2).
 */
int nvd_loop_file_mod(struct nvd_loop *loop, int fd, unsigned mask);

/*
 * nvd_loop_file_del -- forget FD; its callback is not called again, even
 * for readiness already collected in the current iteration.  FD may
 * already be closed.
 *
 * Errors: -ENOENT (FD not registered, or out of range).
 */
int nvd_loop_file_del(struct nvd_loop *loop, int fd);

/*
 * nvd_loop_timer_add -- call FN(loop, id, DATA) once DELAY_NS nanoseconds
 * of CLOCK_MONOTONIC have passed, never before; then, if PERIOD_NS is not
 * 0, every PERIOD_NS after that first deadline (a late loop skips the
 * periods it missed rather than firing a burst, and the schedule does not
 * drift).  A one-shot timer is deleted just before its callback runs.
 * Timers due in the same iteration run in deadline order (ties: creation
 * order); a timer added by a callback runs in a later iteration, even with
 * DELAY_NS 0.  The timer's id (never 0, never reused while the loop lives)
 * goes to *ID when ID is not NULL.
 *
 * Errors: -EINVAL (FN NULL, DELAY_NS or PERIOD_NS above NVD_LOOP_MAX_NS),
 * -ENOSPC (max_timers of nvd_loop_create are alive).
 */
int nvd_loop_timer_add(struct nvd_loop *loop, uint64_t delay_ns,
		       uint64_t period_ns, nvd_timer_fn *fn, void *data,
		       uint64_t *id);

/*
 * nvd_loop_timer_del -- cancel timer ID; its callback is not called again.
 *
 * Errors: -ENOENT (no such timer: a one-shot that already ran, or deleted).
 */
int nvd_loop_timer_del(struct nvd_loop *loop, uint64_t id);

/*
 * nvd_loop_signal_add -- call FN(loop, SIGNO, DATA) when SIGNO arrives.
 * SIGNO is blocked in the calling thread and read through the loop's
 * signalfd, so the callback runs in the loop, never in a signal handler;
 * call this before any other thread exists (threads inherit the mask) or
 * the signal may go to a thread that does not block it.  The disposition
 * is not changed: Linux queues a blocked signal even when it is SIG_IGN
 * (as nohup leaves SIGHUP), so it still reaches the signalfd.  Like any
 * standard signal, two deliveries before the loop reads them count as
 * one.
 *
 * Errors: -EINVAL (SIGNO out of range, SIGKILL or SIGSTOP, or FN NULL),
 * -EEXIST (SIGNO already registered).
 */
int nvd_loop_signal_add(struct nvd_loop *loop, int signo, nvd_signal_fn *fn,
			void *data);

/*
 * nvd_loop_signal_del -- forget SIGNO: the signalfd stops reading it, and
 * SIGNO is unblocked if it was not blocked before nvd_loop_signal_add()
 * (an instance still pending is then delivered to its disposition).
 *
 * Errors: -ENOENT (SIGNO not registered), -EINVAL (SIGNO out of range).
 */
int nvd_loop_signal_del(struct nvd_loop *loop, int signo);

/* nvd_loop_now_ns -- CLOCK_MONOTONIC in nanoseconds, the timers' clock */
uint64_t nvd_loop_now_ns(void);

#endif
