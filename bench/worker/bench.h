/* SPDX-License-Identifier: MIT */
/*
 * bench.h -- what the pieces of the benchmark share: the transport
 * interface every system under test implements (nvmsg and each peer), the
 * measurement drivers, and the helpers for processes, pinning, time and
 * servers.
 *
 * One case = one system, one measure, one message size, run by a case
 * process that the harness forks (harness/run.c).  The case process sets
 * the transport up (creates channels, queues, starts a server), forks the
 * producer and consumer processes, pins them (producers on CPU 0,
 * consumers on CPU 1), releases them together through a barrier in shared
 * memory, collects what they wrote into shared memory, tears the
 * transport down (servers are stopped by pid) and prints one result line.
 *
 * Every message starts with struct nvb_hdr; the rest of the payload is
 * filler of the case's size.  All messages of a case have the same size,
 * so stream transports (pipe) read exactly that many bytes.
 */
#ifndef NVB_BENCH_H
#define NVB_BENCH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* struct nvb_hdr -- the first bytes of every message */
struct nvb_hdr {
	uint64_t t_ns; /* intended send time (rate) or send time, CLOCK_MONOTONIC */
	uint64_t seq;	/* producer's sequence number, from 0 */
	uint32_t flags; /* NVB_END */
	uint32_t prod;	/* producer index */
};
#define NVB_END 0x1u /* last message of a producer: not counted */
#define NVB_MIN_SIZE 64

#define NVB_MAX_PROD 8
#define NVB_MAX_CONS 4
#define NVB_MAX_CHAN 2

/* struct nvb_env -- one case's parameters and the transport's state.
 * Set up by the case process before it forks; children inherit it. */
struct nvb_env {
	const char *dir; /* private directory of this case (removed after) */
	const char *disk_dir; /* one on the real disk (the same as dir for
			       * disk-backed systems), or NULL */
	size_t size;	      /* bytes per message, >= NVB_MIN_SIZE */
	int nprod;	      /* producers per channel */
	int ncons;	      /* consumers per channel (fan-out) */
	int nchan;	      /* 1 one-way, 2 ping-pong (chan 0 ping, 1 pong) */
	int spin;	/* consumer polls (1) or sleeps in the kernel (0) */
	int batch;	/* producer messages per flush (1: each alone) */
	int ack_every;	/* consumer acknowledges every this many messages */
	int tier;	/* nvmsg: enum nvmsg_tier */
	int oversub;	/* more processes than CPUs: yield when idle */
	int replicas;	/* nats: stream replicas (3: a 3-node cluster) */
	int tls;	/* nvmsgd: TLS 1.3 (else plaintext) */
	int rx_tier;	/* nvmsgd: the receiving channel's tier */
	int fwd_tput;	/* nvmsgd: a throughput case (daemons' priority) */
	void *priv;	/* transport's setup state (shared memory, fds) */
	long fsyncs;	/* fsync+fdatasync calls counted, -1 unknown */
	char note[256]; /* what the transport wants said in the table */
};

/* struct nvb_tp -- a system under test, as the drivers see it.
 * setup/teardown run in the case process; the others in the children.
 * Each returns 0 or a negative errno-style code and prints why on stderr.
 * recv returns a pointer to the message (in the transport's buffer or in
 * place) valid until done(). */
struct nvb_tp {
	const char *name;
	int (*setup)(struct nvb_env *e);
	void (*teardown)(struct nvb_env *e);
	int (*tx_open)(struct nvb_env *e, int chan, int prod, void **h);
	int (*send)(void *h, const void *buf, size_t len, int more);
	int (*flush)(void *h); /* NULL: nothing is ever pending */
	void (*tx_close)(void *h);
	int (*rx_open)(struct nvb_env *e, int chan, int cons, void **h);
	int (*recv)(void *h, const void **data, size_t *len);
	int (*done)(void *h); /* the message returned by recv is consumed */
	void (*rx_close)(void *h);
};

/* The transports: the files in peers/, and worker/tp_nvmsg.c.  Peers
 * whose library was not found at configure time are not linked in. */
extern const struct nvb_tp nvb_tp_nvmsg;
extern const struct nvb_tp nvb_tp_ring;
extern const struct nvb_tp nvb_tp_ring_inline;
extern const struct nvb_tp nvb_tp_pipe;
extern const struct nvb_tp nvb_tp_unix;
extern const struct nvb_tp nvb_tp_mq;
extern const struct nvb_tp nvb_tp_fdatasync;
extern const struct nvb_tp nvb_tp_zmq;
extern const struct nvb_tp nvb_tp_redis;
extern const struct nvb_tp nvb_tp_nats;
extern const struct nvb_tp nvb_tp_tcp;
extern const struct nvb_tp nvb_tp_nvmsgd;

/* nvb_find_tp -- the transport called NAME, or NULL (*why says if it was
 * left out of the build and which package brings it) */
const struct nvb_tp *nvb_find_tp(const char *name, const char **why);

/* ------------------------------------------------------------ results */

#define NVB_NQ 12
extern const double nvb_quantiles[NVB_NQ]; /* 0 .. 1, for the plot */

/* struct nvb_result -- what one case measured */
struct nvb_result {
	uint64_t n;		    /* latency samples (after warm-up) */
	double p50, p99, p999, max; /* one-way latency, ns */
	double q[NVB_NQ];	    /* latency at nvb_quantiles[], ns */
	double msgs_per_s;	    /* throughput (slowest consumer) */
	double mb_per_s;	    /* msgs_per_s * size / 1e6 */
	uint64_t msgs;		    /* messages counted for the throughput */
	double sleeps_per_msg; /* consumer voluntary context switches / msg */
	long fsyncs;	       /* -1 unknown */
	uint64_t acks;	       /* acknowledged sends (for the fsync count) */
	/* a second latency of the same messages (forwarding: the release
	 * at the sender), 0 samples when there is none */
	uint64_t rn;
	double rp50, rp99, rp999, rmax;
	char note[256];
};

/* struct nvb_params -- how long a case runs */
struct nvb_params {
	uint64_t count; /* round trips (pp), messages (rate) */
	double seconds; /* cap (pp), duration (tput) */
	double rate;	/* messages per second (rate) */
	uint64_t warm;	/* samples dropped first */
};

/* Drivers (worker/drivers.c).  Each returns 0 and fills *r, or < 0. */
int nvb_pingpong(const struct nvb_tp *tp, struct nvb_env *e,
		 const struct nvb_params *pa, struct nvb_result *r);
int nvb_rate(const struct nvb_tp *tp, struct nvb_env *e,
	     const struct nvb_params *pa, struct nvb_result *r);
int nvb_throughput(const struct nvb_tp *tp, struct nvb_env *e,
		   const struct nvb_params *pa, struct nvb_result *r);
/* nvb_publish -- closed loop, one producer and no consumer: the time of
 * each send (a synchronous publish that returns with the server's
 * acknowledgement: NATS JetStream's PubAck, Redis's XADD reply) */
int nvb_publish(const struct nvb_tp *tp, struct nvb_env *e,
		const struct nvb_params *pa, struct nvb_result *r);
/* nvb_fwd_rate -- forwarding through two nvmsgd (peers/fwd.c): one
 * producer at a fixed rate on the origin channel; latency to durable at
 * the receiver (a consumer of the receiving channel) in r->p50..., and to
 * the release at the sender in r->rp50...; coordinated omission corrected
 * (both count from the intended send time) */
int nvb_fwd_rate(struct nvb_env *e, const struct nvb_params *pa,
		 struct nvb_result *r);
/* nvb_fwd_path -- the nvmsgd executable the forwarding cases run, or NULL
 * (*why says where it was looked for) */
const char *nvb_fwd_path(const char **why);

/* Machine measures (worker/probe.c). */
/* nvb_probe_floor -- raw ping-pong of one cache line between CPU 0 and
 * CPU 1, COUNT round trips; one-way latency (round trip / 2) in *r */
int nvb_probe_floor(uint64_t count, struct nvb_result *r);
/* nvb_probe_barrier -- one persist barrier (store, clwb or clflushopt
 * through libpmem, sfence) on a DRAM file mapping, ns per barrier */
int nvb_probe_barrier(const char *dir, double seconds, struct nvb_result *r);
/* nvb_probe_memcpy -- single-core memcpy of SIZE-byte messages into a
 * 1 MiB ring, MB/s and messages/s */
int nvb_probe_memcpy(size_t size, double seconds, struct nvb_result *r);

/* ------------------------------------------------------------ util.c */

uint64_t nvb_now_ns(void);
static inline void
nvb_relax(void)
{
	__builtin_ia32_pause();
}
int nvb_ncpus(void);
/* nvb_pin -- run this process on CPU (modulo the CPUs it may use) */
int nvb_pin(int cpu);
/* nvb_shm -- zeroed MAP_SHARED anonymous memory, inherited by children */
void *nvb_shm(size_t len);
void nvb_shm_free(void *p, size_t len);

/* struct nvb_gate -- children arrive, the case process opens the gate */
struct nvb_gate {
	atomic_int arrived;
	atomic_int failed;
	atomic_int go;
	uint64_t t_go; /* written before go is released */
};
/* nvb_gate_arrive -- say ready, wait for go; -1 if the case failed */
int nvb_gate_arrive(struct nvb_gate *g);
void nvb_gate_fail(struct nvb_gate *g);

/* nvb_fork -- fork a child that pins itself to CPU and runs FN(ARG);
 * its exit status is FN's return (0 ok).  The child dies with the case
 * process (PR_SET_PDEATHSIG).  Returns the pid or -1. */
pid_t nvb_fork(int cpu, int (*fn)(void *), void *arg);
/* nvb_wait_all -- wait for N children, killing all after TIMEOUT_S;
 * returns 0 when every one exited 0 */
int nvb_wait_all(pid_t *pids, int n, double timeout_s);

/* Latency samples: ns, sorted in place by nvb_summarise. */
void nvb_summarise(uint32_t *ns, uint64_t n, struct nvb_result *r);
/* nvb_summarise_rel -- the same into the second latency (r->rp50...) */
void nvb_summarise_rel(uint32_t *ns, uint64_t n, struct nvb_result *r);

/* Servers. */
/* nvb_spawn -- start ARGV[0] (searched in PATH) with stdout and stderr in
 * LOG; records "pid name" in DIR/pids so the harness can stop it by pid
 * whatever happens.  Returns the pid or -1. */
pid_t nvb_spawn(const char *dir, char *const argv[], const char *log);
/* nvb_spawn_on -- the same, on CPU (the CPU-th allowed one; < 0: every
 * CPU, as nvb_spawn) at nice level NICE, or with NVB_SCHED_IDLE under
 * SCHED_IDLE (any other process that wakes on its CPU preempts it) */
#define NVB_SCHED_IDLE 100
pid_t nvb_spawn_on(const char *dir, char *const argv[], const char *log,
		   int cpu, int nice);
/* nvb_record_pid -- add PID (process NAME) to DIR/pids */
void nvb_record_pid(const char *dir, pid_t pid, const char *name);
/* nvb_stop -- SIGTERM, up to 3 s, then SIGKILL; reaps it if our child */
void nvb_stop(pid_t pid, int ours);
/* nvb_free_port -- a TCP port on 127.0.0.1 free right now */
int nvb_free_port(void);
/* nvb_wait_port -- until something accepts on 127.0.0.1:PORT */
int nvb_wait_port(int port, double timeout_s);
/* nvb_in_path -- 1 if NAME is an executable in PATH */
int nvb_in_path(const char *name);

#endif /* NVB_BENCH_H */
