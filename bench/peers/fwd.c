/* SPDX-License-Identifier: MIT */
/*
 * fwd.c -- nvmsg forwarded by nvmsgd over loopback TCP: two daemons
 * started by the case process (127.0.0.1 only, their own directories,
 * stopped by pid), plaintext or TLS 1.3, the receiving channel on the
 * emulated tier (NOT durable: DRAM, clwb+sfence executed) or on msync.
 *
 *   origin    DIR/tx/orders, emulated tier (the origin stands in for a
 *             pmem channel; what varies between rows is the receiver);
 *   sender    nvmsgd --dir DIR/tx --forward orders=127.0.0.1:PORT, pinned
 *             to CPU 0 (the producer's);
 *   receiver  nvmsgd --dir RX --listen 127.0.0.1:0, pinned to CPU 1 (the
 *             consumer's), appending into RX/orders (created here before
 *             the daemons start, with the consumer registered);
 *   both      --spin 3600s: they poll all the time.
 *
 * Two CPUs, four or five processes.  The daemons spin; in the latency
 * case they run under SCHED_IDLE and every other process sleeps until it
 * has something to do (the producer until the intended send time, the
 * consumers on the library's futexes), so a waking process
 * preempts the daemon of its CPU at once (the scheduler's rule for
 * SCHED_IDLE; nice 19 left millisecond tails) and the daemons get all
 * the rest.  In the throughput case all run at the same priority.  With
 * five CPUs or more (dedicated()) each process has its own CPU (sender
 * 2, receiver 3, watcher 4) and everyone spins.
 *
 * Latency (nvb_fwd_rate): one producer at a fixed rate; each message
 * carries its intended send time (coordinated omission corrected: a send
 * that waited for ring space holds the schedule; only the lateness of the
 * producer's own timer, 25-40 us on this VM, is left out and reported).
 *   durable   a consumer of the receiving channel sees it: the receiver
 *             publishes only records it has flushed (one barrier per
 *             batch), so seeing it is seeing it durable;
 *   release   the sender's link consumer acks it (nvmsg_ack_view, after
 *             the receiver's durable ACK): its cursor's ack_pub word (the
 *             ack producers may use, docs/FORMAT.md "CURSOR REGION")
 *             passes the message's end.  A watcher process waits on that
 *             word exactly as a producer blocked on a full ring does
 *             (chan/produce.c): it sets the producer slot's `waiting`
 *             word, so the link consumer's ack wakes it (FUTEX_WAKE on
 *             ack_pub), and reads the messages through its own consumer
 *             to learn their intended times and ends.  So "release" is
 *             the moment a producer waiting for ring space would wake.
 * Both consumers wait without the library's spin phase (4096 pauses,
 * about 100 us here, which would take that CPU from the daemon): they
 * sleep on the same futex words the library's sleep path uses (the
 * channel's doorbell with the cursor's `waiting` set; ack_pub above).
 * These words are the format's (version 3, checked at open), not the
 * public API: a format change fails these cases loudly.
 *
 * Throughput (nvb_throughput over this transport): the producer sends
 * batches of 64; the figure is the receiving consumer's rate.
 */
#include "../worker/bench.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <linux/futex.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nvmsg.h>

#define CHAN "orders"
#define WAIT_NS 20000000000ll
#define SLICE_NS 2000000ull /* futex waits are sliced, as the library's */
#define FWD_ACK_EVERY 1024  /* the receiving consumer's acks (msync!) */

/* docs/FORMAT.md, format version 3: the words the waits use */
#define FMT_VERSION 3u
#define DATA_DOORBELL 128u /* data header: doorbell (u32) */
#define DATA_PROD_OFF 80u  /* data header: prod_table_off (u64) */
#define SLOT_BYTES 256u	   /* producer slot */
#define SLOT_WAITING 144u  /* producer slot: waiting (u32) */
#define CUR_WAITING 128u   /* cursor: waiting (u32) */
#define CUR_ACK_PUB 264u   /* cursor: ack_pub[0] (u64), + 64 per ring */
#define CUR_ACK_STRIDE 64u

/* ------------------------------------------------------------ nvmsgd */

static char nvmsgd_path[4096];

const char *
nvb_fwd_path(const char **why)
{
	const char *env = getenv("NVMSGD");
	char self[4096], cand[4200];
	ssize_t n;

	*why = "nvmsgd not found: set NVMSGD=PATH, or build it "
	       "(<build>/daemon/nvmsgd) or install it (sbin)";
	if (env && *env) {
		if (access(env, X_OK) == 0) {
			snprintf(nvmsgd_path, sizeof(nvmsgd_path), "%s", env);
			return nvmsgd_path;
		}
		*why = "NVMSGD does not name an executable";
		return NULL;
	}
#ifdef NVB_NVMSGD_BUILD
	if (access(NVB_NVMSGD_BUILD, X_OK) == 0) {
		snprintf(nvmsgd_path, sizeof(nvmsgd_path), "%s",
			 NVB_NVMSGD_BUILD);
		return nvmsgd_path;
	}
#endif
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			static const char *const rel[] = {
				"nvmsgd", "../daemon/nvmsgd",
				"../../sbin/nvmsgd", "../../../sbin/nvmsgd"
			};
			for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]);
			     i++) {
				snprintf(cand, sizeof(cand), "%s/%s", self,
					 rel[i]);
				if (access(cand, X_OK) == 0 &&
				    realpath(cand, nvmsgd_path))
					return nvmsgd_path;
			}
		}
	}
	static const char *const sys[] = { "/usr/local/sbin/nvmsgd",
					   "/usr/sbin/nvmsgd" };
	for (size_t i = 0; i < sizeof(sys) / sizeof(sys[0]); i++)
		if (access(sys[i], X_OK) == 0) {
			snprintf(nvmsgd_path, sizeof(nvmsgd_path), "%s",
				 sys[i]);
			return nvmsgd_path;
		}
	if (nvb_in_path("nvmsgd")) {
		snprintf(nvmsgd_path, sizeof(nvmsgd_path), "nvmsgd");
		return nvmsgd_path;
	}
	return NULL;
}

struct fwd {
	char tx[512], rx[512], certs[512];
	char linkcur[1024]; /* DIR/tx/orders.<link consumer>.nvcur */
	pid_t txd, rxd;
	int port;
	int ded; /* a CPU for each daemon and each consumer (see top) */
};

/* dedicated -- 5 CPUs or more: the producer on CPU 0, the receiving
 * consumer on 1, the sender on 2, the receiver on 3, the watcher on 4,
 * everyone spinning at the same priority; NVB_FWD_PLACEMENT=shared or
 * dedicated overrides */
static int
dedicated(void)
{
	const char *p = getenv("NVB_FWD_PLACEMENT");

	if (p && !strcmp(p, "shared"))
		return 0;
	if (p && !strcmp(p, "dedicated"))
		return 1;
	return nvb_ncpus() >= 5;
}

/* run_quiet -- run ARGV, output into LOG; 0 when it exited 0 */
static int
run_quiet(char *const argv[], const char *log)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid)
		return -ECHILD;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

/* make_certs -- a CA, a server and a client certificate (EC P-256, SAN
 * DNS:localhost and IP:127.0.0.1, both key usages), as
 * tests/net/mkcerts.sh makes them, with the openssl command */
static int
make_certs(const char *dir)
{
	char cnf[600], log[600], key[600], pem[600], csr[600];
	char ca_key[600], ca_pem[600];
	FILE *f;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return -errno;
	snprintf(cnf, sizeof(cnf), "%s/openssl.cnf", dir);
	snprintf(log, sizeof(log), "%s/openssl.log", dir);
	snprintf(ca_key, sizeof(ca_key), "%s/ca.key", dir);
	snprintf(ca_pem, sizeof(ca_pem), "%s/ca.pem", dir);
	if (!(f = fopen(cnf, "w")))
		return -errno;
	fputs("[ req ]\ndistinguished_name = dn\nprompt = no\n"
	      "[ dn ]\nCN = unused\n"
	      "[ v3_ca ]\nbasicConstraints = critical, CA:TRUE\n"
	      "keyUsage = critical, keyCertSign, cRLSign\n"
	      "subjectKeyIdentifier = hash\n"
	      "[ leaf ]\nbasicConstraints = critical, CA:FALSE\n"
	      "keyUsage = critical, digitalSignature\n"
	      "extendedKeyUsage = serverAuth, clientAuth\n"
	      "subjectKeyIdentifier = hash\n"
	      "authorityKeyIdentifier = keyid\n"
	      "subjectAltName = DNS:localhost, IP:127.0.0.1\n",
	      f);
	if (fclose(f) != 0)
		return -EIO;
	char *gen_ca[] = { "openssl", "genpkey",  "-algorithm",
			   "EC",      "-pkeyopt", "ec_paramgen_curve:P-256",
			   "-out",    ca_key,	  NULL };
	char *self_sign[] = { "openssl", "req",
			      "-config", cnf,
			      "-new",	 "-x509",
			      "-key",	 ca_key,
			      "-subj",	 "/CN=nvmsg bench CA",
			      "-days",	 "30",
			      "-sha256", "-extensions",
			      "v3_ca",	 "-set_serial",
			      "4096",	 "-out",
			      ca_pem,	 NULL };
	if (run_quiet(gen_ca, log) < 0 || run_quiet(self_sign, log) < 0)
		goto fail;
	static const char *const leaf[2] = { "server", "client" };
	for (int i = 0; i < 2; i++) {
		char subj[64], serial[16];
		snprintf(key, sizeof(key), "%s/%s.key", dir, leaf[i]);
		snprintf(pem, sizeof(pem), "%s/%s.pem", dir, leaf[i]);
		snprintf(csr, sizeof(csr), "%s/%s.csr", dir, leaf[i]);
		snprintf(subj, sizeof(subj), "/CN=%s",
			 i ? "nvmsg-client" : "localhost");
		snprintf(serial, sizeof(serial), "%d", 4097 + i);
		char *gen[] = { "openssl",    "genpkey",
				"-algorithm", "EC",
				"-pkeyopt",   "ec_paramgen_curve:P-256",
				"-out",	      key,
				NULL };
		char *req[] = { "openssl", "req",  "-config", cnf,
				"-new",	   "-key", key,	      "-subj",
				subj,	   "-out", csr,	      NULL };
		char *sign[] = { "openssl",	"x509",	       "-req",
				 "-in",		csr,	       "-CA",
				 ca_pem,	"-CAkey",      ca_key,
				 "-set_serial", serial,	       "-days",
				 "30",		"-sha256",     "-extfile",
				 cnf,		"-extensions", "leaf",
				 "-out",	pem,	       NULL };
		if (run_quiet(gen, log) < 0 || run_quiet(req, log) < 0 ||
		    run_quiet(sign, log) < 0)
			goto fail;
	}
	return 0;
fail:
	fprintf(stderr,
		"bench nvmsgd: making the TLS certificates failed (see "
		"%s)\n",
		log);
	return -EIO;
}

/* tail_log -- the last lines of a daemon's log, on stderr */
static void
tail_log(const char *log)
{
	char buf[2048];
	FILE *f = fopen(log, "r");

	if (!f)
		return;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, n > (long)sizeof(buf) - 1 ? n - (long)sizeof(buf) + 1 : 0,
	      SEEK_SET);
	size_t k = fread(buf, 1, sizeof(buf) - 1, f);
	buf[k] = '\0';
	fclose(f);
	fprintf(stderr, "bench nvmsgd: %s:\n%s\n", log, buf);
}

/* file_has -- FILE exists and holds NEEDLE */
static int
file_has(const char *file, const char *needle)
{
	char buf[8192];
	FILE *f = fopen(file, "r");

	if (!f)
		return 0;
	size_t k = fread(buf, 1, sizeof(buf) - 1, f);
	buf[k] = '\0';
	fclose(f);
	return strstr(buf, needle) != NULL;
}

static int
create_chan(const char *dir, int tier, uint64_t cap, unsigned prods,
	    unsigned cons, const char *consumer)
{
	struct nvmsg_channel_opts o = {
		.tier = tier,
		.capacity_bytes = cap,
		.max_producers = prods,
		.max_consumers = cons,
		.mode = 0600,
	};
	struct nvmsg_consumer *c;
	int rc = nvmsg_channel_create(dir, CHAN, &o);

	if (rc < 0) {
		fprintf(stderr, "bench nvmsgd: create %s/%s: %s\n", dir, CHAN,
			nvmsg_errmsg());
		return rc;
	}
	if (!consumer)
		return 0;
	rc = nvmsg_consumer_open(dir, CHAN, consumer, NVMSG_CONSUMER_CREATE,
				 &c);
	if (rc < 0) {
		fprintf(stderr, "bench nvmsgd: register %s: %s\n", consumer,
			nvmsg_errmsg());
		return rc;
	}
	nvmsg_consumer_close(&c);
	return 0;
}

static int
setup(struct nvb_env *e)
{
	struct fwd *f = calloc(1, sizeof(*f));
	const char *why, *exe = nvb_fwd_path(&why);
	const char *disk = e->disk_dir ? e->disk_dir : e->dir;
	/* rings: every message of a latency case fits with room to spare;
	 * 4 KiB messages get 16 MiB (about 4000 in flight) */
	uint64_t cap = e->size > 1024 ? 16u << 20 : 4u << 20;
	char log[600], portf[600], status[600], capacity[32], addr[64];
	int rc;

	if (!f)
		return -ENOMEM;
	e->priv = f;
	if (!exe) {
		fprintf(stderr, "bench nvmsgd: %s\n", why);
		return -ENOENT;
	}
	snprintf(f->tx, sizeof(f->tx), "%s/tx", e->dir);
	snprintf(f->rx, sizeof(f->rx), "%s/rx", disk);
	snprintf(f->certs, sizeof(f->certs), "%s/certs", e->dir);
	if (mkdir(f->tx, 0700) != 0 || mkdir(f->rx, 0700) != 0)
		return -errno;
	if (e->tls && (rc = make_certs(f->certs)) < 0)
		return rc;
	/* the origin: one producer; the link consumer registers itself
	 * when the sender starts, the watcher (latency) here */
	rc = create_chan(f->tx, NVMSG_TIER_EMULATED, cap, 1, 4,
			 e->fwd_tput ? NULL : "watch");
	if (rc < 0)
		return rc;
	/* the receiving channel, with its consumer registered before the
	 * first message arrives */
	if ((rc = create_chan(f->rx, e->rx_tier, cap, 2, 2, "c0")) < 0)
		return rc;
	snprintf(capacity, sizeof(capacity), "%llu", (unsigned long long)cap);

	/* latency: the daemons yield to any process that wakes (see the
	 * top); throughput: everyone at the same priority */
	f->ded = dedicated();
	int nice = e->fwd_tput || f->ded ? 0 : NVB_SCHED_IDLE;
	char s_cert[600], s_key[600], c_cert[600], c_key[600], ca[600];
	snprintf(s_cert, sizeof(s_cert), "%s/server.pem", f->certs);
	snprintf(s_key, sizeof(s_key), "%s/server.key", f->certs);
	snprintf(c_cert, sizeof(c_cert), "%s/client.pem", f->certs);
	snprintf(c_key, sizeof(c_key), "%s/client.key", f->certs);
	snprintf(ca, sizeof(ca), "%s/ca.pem", f->certs);

	/* the receiver */
	snprintf(log, sizeof(log), "%s/nvmsgd-rx.log", e->dir);
	snprintf(portf, sizeof(portf), "%s/port", f->rx);
	char *rargv[32];
	int k = 0;
	rargv[k++] = (char *)exe;
	rargv[k++] = "--dir";
	rargv[k++] = f->rx;
	rargv[k++] = "--listen";
	rargv[k++] = "127.0.0.1:0";
	rargv[k++] = "--port-file";
	rargv[k++] = portf;
	rargv[k++] = "--tier";
	rargv[k++] = (char *)nvmsg_tier_name(e->rx_tier);
	rargv[k++] = "--capacity";
	rargv[k++] = capacity;
	rargv[k++] = "--spin";
	rargv[k++] = "3600s";
	if (e->rx_tier == NVMSG_TIER_EMULATED ||
	    e->rx_tier == NVMSG_TIER_VOLATILE)
		rargv[k++] = "--allow-volatile";
	if (e->tls) {
		rargv[k++] = "--tls-cert";
		rargv[k++] = s_cert;
		rargv[k++] = "--tls-key";
		rargv[k++] = s_key;
		rargv[k++] = "--tls-ca";
		rargv[k++] = ca;
	} else {
		rargv[k++] = "--plaintext";
	}
	rargv[k] = NULL;
	f->rxd = nvb_spawn_on(e->dir, rargv, log, f->ded ? 3 : 1, nice);
	uint64_t deadline = nvb_now_ns() + 10000000000ull;
	FILE *pf = NULL;
	while (f->rxd > 0 && nvb_now_ns() < deadline) {
		if ((pf = fopen(portf, "r"))) {
			if (fscanf(pf, "%d", &f->port) != 1)
				f->port = 0;
			fclose(pf);
			if (f->port > 0)
				break;
		}
		if (waitpid(f->rxd, NULL, WNOHANG) == f->rxd) {
			f->rxd = 0;
			break;
		}
		usleep(10000);
	}
	if (f->port <= 0) {
		fprintf(stderr, "bench nvmsgd: the receiver did not start\n");
		tail_log(log);
		return -ECONNREFUSED;
	}

	/* the sender */
	snprintf(log, sizeof(log), "%s/nvmsgd-tx.log", e->dir);
	snprintf(addr, sizeof(addr), CHAN "=127.0.0.1:%d", f->port);
	char *targv[32];
	k = 0;
	targv[k++] = (char *)exe;
	targv[k++] = "--dir";
	targv[k++] = f->tx;
	targv[k++] = "--forward";
	targv[k++] = addr;
	targv[k++] = "--spin";
	targv[k++] = "3600s";
	if (e->rx_tier == NVMSG_TIER_EMULATED ||
	    e->rx_tier == NVMSG_TIER_VOLATILE)
		targv[k++] = "--allow-volatile";
	if (e->tls) {
		targv[k++] = "--tls-cert";
		targv[k++] = c_cert;
		targv[k++] = "--tls-key";
		targv[k++] = c_key;
		targv[k++] = "--tls-ca";
		targv[k++] = ca;
	} else {
		targv[k++] = "--plaintext";
	}
	targv[k] = NULL;
	f->txd = nvb_spawn_on(e->dir, targv, log, f->ded ? 2 : 0, nice);
	snprintf(status, sizeof(status), "%s/nvmsgd.status", f->tx);
	deadline = nvb_now_ns() + 15000000000ull;
	int running = 0;
	while (f->txd > 0 && nvb_now_ns() < deadline) {
		if (file_has(status, "state=running")) {
			running = 1;
			break;
		}
		if (waitpid(f->txd, NULL, WNOHANG) == f->txd) {
			f->txd = 0;
			break;
		}
		usleep(10000);
	}
	if (!running) {
		fprintf(stderr, "bench nvmsgd: the link did not come up\n");
		tail_log(log);
		snprintf(log, sizeof(log), "%s/nvmsgd-rx.log", e->dir);
		tail_log(log);
		return -ECONNREFUSED;
	}
	/* the link consumer's cursor, for the watcher */
	glob_t g;
	char pat[700];
	snprintf(pat, sizeof(pat), "%s/" CHAN ".link-*.nvcur", f->tx);
	if (glob(pat, 0, NULL, &g) != 0 || g.gl_pathc != 1) {
		fprintf(stderr, "bench nvmsgd: no link consumer cursor %s\n",
			pat);
		return -ENOENT;
	}
	snprintf(f->linkcur, sizeof(f->linkcur), "%s", g.gl_pathv[0]);
	globfree(&g);
	snprintf(e->note, sizeof(e->note), "%s",
		 f->ded ? "dedicated CPUs: every process spins"
		 : nice == NVB_SCHED_IDLE
			 ? "2 CPUs shared: daemons SCHED_IDLE, consumers sleep"
			 : "2 CPUs shared: all at nice 0, consumers sleep");
	return 0;
}

static void
teardown(struct nvb_env *e)
{
	struct fwd *f = e->priv;

	if (!f)
		return;
	/* the sender first: it must not see the receiver go */
	if (f->txd > 0)
		nvb_stop(f->txd, 1);
	if (f->rxd > 0)
		nvb_stop(f->rxd, 1);
	if (f->tx[0])
		nvmsg_channel_unlink(f->tx, CHAN);
	if (f->rx[0])
		nvmsg_channel_unlink(f->rx, CHAN);
	free(f);
	e->priv = NULL;
}

/* ------------------------------------------------------ raw words */

static int
futex_wait(void *word, uint32_t expect, uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000ull),
			       .tv_nsec = (long)(ns % 1000000000ull) };

	return (int)syscall(SYS_futex, word, FUTEX_WAIT, expect, &ts, NULL, 0);
}

/* map_file -- PATH whole, read-only or read-write; checks the magic and
 * the format version (docs/FORMAT.md) */
static void *
map_file(const char *path, const char *magic, int rw, size_t *len)
{
	int fd = open(path, rw ? O_RDWR : O_RDONLY);
	struct stat st;
	void *p;

	if (fd < 0 || fstat(fd, &st) != 0) {
		fprintf(stderr, "bench nvmsgd: open %s: %s\n", path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ | (rw ? PROT_WRITE : 0),
		 MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return NULL;
	uint32_t ver;
	memcpy(&ver, (char *)p + 8, 4);
	if (memcmp(p, magic, 8) != 0 || ver != FMT_VERSION) {
		fprintf(stderr,
			"bench nvmsgd: %s is not a format version %u file: "
			"the benchmark's waits (fwd.c) need updating\n",
			path, FMT_VERSION);
		munmap(p, (size_t)st.st_size);
		return NULL;
	}
	*len = (size_t)st.st_size;
	return p;
}

/* ------------------------------------------------------ consumers */

/* struct rx -- a consumer that sleeps without spinning first */
struct rx {
	struct nvmsg_consumer *c;
	struct nvb_env *e;
	unsigned pending;
	void *data; /* channel data region, read-only: the doorbell */
	size_t data_len;
	void *cur; /* our cursor region, read-write: waiting */
	size_t cur_len;
	unsigned char *buf; /* a copy of the message */
};

static void rx_close(void *h);

static int
open_rx(struct nvb_env *e, const char *dir, const char *name, struct rx **out)
{
	struct rx *r = calloc(1, sizeof(*r));
	char path[1024];
	int rc;

	if (!r)
		return -ENOMEM;
	r->e = e;
	rc = nvmsg_consumer_open(dir, CHAN, name, 0, &r->c);
	if (rc < 0) {
		fprintf(stderr, "bench nvmsgd: consumer %s: %s\n", name,
			nvmsg_errmsg());
		free(r);
		return rc;
	}
	snprintf(path, sizeof(path), "%s/%s.nvmsg", dir, CHAN);
	r->data = map_file(path, "NVMSGCH", 0, &r->data_len);
	snprintf(path, sizeof(path), "%s/%s.%s.nvcur", dir, CHAN, name);
	r->cur = map_file(path, "NVMSGCU", 1, &r->cur_len);
	r->buf = aligned_alloc(64, (e->size + 63) & ~(size_t)63);
	if (!r->data || !r->cur || !r->buf) {
		rx_close(r);
		return -EIO;
	}
	*out = r;
	return 0;
}

/* rx_wait -- the next message: poll once, else sleep on the doorbell as
 * the library's sleep path does (consume.c), without its spin phase */
static int
rx_wait(struct rx *r, struct nvmsg_view *v)
{
	_Atomic uint32_t *bell =
		(_Atomic uint32_t *)(void *)((char *)r->data + DATA_DOORBELL);
	_Atomic uint32_t *waiting =
		(_Atomic uint32_t *)(void *)((char *)r->cur + CUR_WAITING);
	uint64_t deadline = nvb_now_ns() + (uint64_t)WAIT_NS;
	int rc;

	struct fwd *f = r->e->priv;
	unsigned idle = 0;
	for (;;) {
		if ((rc = nvmsg_view(r->c, v, 0)) != -EAGAIN)
			return rc;
		if (f->ded) { /* a CPU of its own: poll */
			nvb_relax();
			if ((++idle & 0xffffff) == 0 && nvb_now_ns() > deadline)
				return -ETIMEDOUT;
			continue;
		}
		/* no ack before sleeping: on msync an ack is an msync
		 * (150 us), which at 10,000 msgs/s would be the consumer's
		 * delay, not the path's; the rings hold FWD_ACK_EVERY
		 * messages many times over */
		atomic_store(waiting, 1);
		uint32_t d = atomic_load(bell);
		rc = nvmsg_view(r->c, v, 0);
		if (rc == -EAGAIN)
			futex_wait(bell, d, SLICE_NS);
		atomic_store_explicit(waiting, 0, memory_order_relaxed);
		if (rc != -EAGAIN)
			return rc;
		if (nvb_now_ns() > deadline)
			return -ETIMEDOUT;
	}
}

static int
rx_open(struct nvb_env *e, int chan, int cons, void **h)
{
	struct fwd *f = e->priv;

	(void)chan;
	(void)cons;
	return open_rx(e, f->rx, "c0", (struct rx **)h);
}

static int
rx_recv(void *h, const void **data, size_t *len)
{
	struct rx *r = h;
	struct nvmsg_view v;
	int rc = rx_wait(r, &v);

	if (rc < 0) {
		fprintf(stderr, "bench nvmsgd: view: %s\n", nvmsg_errmsg());
		return rc;
	}
	*data = v.data;
	*len = v.len;
	return 0;
}

static int
rx_done(void *h)
{
	struct rx *r = h;

	if (++r->pending < (unsigned)FWD_ACK_EVERY)
		return 0;
	r->pending = 0;
	return nvmsg_ack(r->c);
}

static void
rx_close(void *h)
{
	struct rx *r = h;

	if (r->pending)
		nvmsg_ack(r->c);
	nvmsg_consumer_close(&r->c);
	if (r->data)
		munmap(r->data, r->data_len);
	if (r->cur)
		munmap(r->cur, r->cur_len);
	free(r->buf);
	free(r);
}

/* ------------------------------------------------------ producers */

static int
tx_open(struct nvb_env *e, int chan, int prod, void **h)
{
	struct fwd *f = e->priv;
	struct nvmsg_producer *p;
	int rc = nvmsg_producer_open(f->tx, CHAN, prod, &p);

	(void)chan;
	if (rc < 0) {
		fprintf(stderr, "bench nvmsgd: producer: %s\n", nvmsg_errmsg());
		return rc;
	}
	*h = p;
	return 0;
}

static int
tx_send(void *h, const void *buf, size_t len, int more)
{
	int rc = nvmsg_send(h, buf, len, NVMSG_BLOCK | (more ? NVMSG_MORE : 0),
			    WAIT_NS);

	if (rc < 0)
		fprintf(stderr, "bench nvmsgd: send: %s\n", nvmsg_errmsg());
	return rc;
}

static int
tx_flush(void *h)
{
	return nvmsg_producer_flush(h);
}

static void
tx_close(void *h)
{
	struct nvmsg_producer *p = h;

	nvmsg_producer_close(&p);
}

const struct nvb_tp nvb_tp_nvmsgd = {
	.name = "nvmsgd",
	.setup = setup,
	.teardown = teardown,
	.tx_open = tx_open,
	.send = tx_send,
	.flush = tx_flush,
	.tx_close = tx_close,
	.rx_open = rx_open,
	.recv = rx_recv,
	.done = rx_done,
	.rx_close = rx_close,
};

/* ------------------------------------------------------ latency */

struct fshared {
	struct nvb_gate gate;
	atomic_int done; /* consumer and watcher saw the end */
	uint64_t sent, offered;
	uint64_t n, rn, nlate, behind;
	long sleeps;
	uint64_t all;
	uint32_t *dur, *rel, *late; /* into samples[] */
	uint32_t samples[];
};

struct fchild {
	struct nvb_env *e;
	const struct nvb_params *pa;
	struct fshared *sh;
	uint64_t cap;
};

static int
fbad(struct fshared *sh, const char *what, int rc)
{
	fprintf(stderr, "bench nvmsgd: %s failed (%d: %s)\n", what, rc,
		nvmsg_errmsg());
	nvb_gate_fail(&sh->gate);
	return -1;
}

static uint32_t
clamp32(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* sleep_until -- sleep until T (no spinning: the daemon of this CPU
 * needs it) */
static void
sleep_until(uint64_t t)
{
	struct timespec ts = { .tv_sec = (time_t)(t / 1000000000ull),
			       .tv_nsec = (long)(t % 1000000000ull) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

/* a send on the emulated origin takes about a microsecond; one that took
 * this long waited for ring space (or was preempted) */
#define BLOCKED_NS 50000ull

static int
f_producer(void *arg)
{
	struct fchild *c = arg;
	struct nvb_env *e = c->e;
	void *tx;
	int rc;

	prctl(PR_SET_TIMERSLACK, 1UL); /* wake at the intended time */
	if ((rc = tx_open(e, 0, 0, &tx)) < 0)
		return fbad(c->sh, "producer open", rc);
	unsigned char *m = aligned_alloc(64, (e->size + 63) & ~(size_t)63);
	if (!m)
		return -1;
	for (size_t i = 0; i < e->size; i++)
		m[i] = (unsigned char)(i * 131u + 7u);
	struct nvb_hdr *h = (void *)m;
	if (nvb_gate_arrive(&c->sh->gate) < 0)
		return -1;
	double interval = 1e9 / c->pa->rate;
	uint64_t start = nvb_now_ns() + 1000000;
	uint64_t total = c->pa->count + c->pa->warm, k;
	double span = (double)total * interval;
	uint64_t stop = start + (uint64_t)(span * 2 > span + 1e9 ? span * 2
								 : span + 1e9);
	int blocked = 0; /* the previous send waited (a full ring) */
	int held = 0;	 /* behind the schedule because a send waited */
	for (k = 0; k < total; k++) {
		uint64_t intended = start + (uint64_t)((double)k * interval);
		uint64_t now = nvb_now_ns();
		int slept = now < intended;
		if (slept) {
			sleep_until(intended);
			now = nvb_now_ns();
		}
		if (now > stop)
			break;
		/* the intended time, as the other rate cases, while a send
		 * that waited (a full ring: the path pushing back) holds the
		 * producer behind the schedule (coordinated omission
		 * corrected); but when the producer slept on its own timer,
		 * the timer's lateness (25-30 us on this VM, busy CPU or
		 * not) is the harness's, not the path's: count from the
		 * wake-up */
		held = !slept && (blocked || held);
		h->t_ns = held ? intended : now;
		h->seq = k;
		h->flags = 0;
		if ((rc = tx_send(tx, m, e->size, 0)) < 0)
			return fbad(c->sh, "send", rc);
		blocked = nvb_now_ns() - now > BLOCKED_NS;
		if (k >= c->pa->warm && held)
			c->sh->behind++;
		else if (k >= c->pa->warm && c->sh->nlate < c->cap)
			c->sh->late[c->sh->nlate++] = clamp32(now - intended);
	}
	h->flags = NVB_END;
	if ((rc = tx_send(tx, m, e->size, 0)) < 0)
		return fbad(c->sh, "send end", rc);
	c->sh->sent = k + 1;
	c->sh->offered = total;
	uint64_t deadline = nvb_now_ns() + 60000000000ull;
	while (atomic_load(&c->sh->done) < 2 &&
	       !atomic_load(&c->sh->gate.failed) && nvb_now_ns() < deadline)
		usleep(1000);
	tx_close(tx);
	free(m);
	return 0;
}

/* f_consumer -- the receiving channel: durable at the receiver */
static int
f_consumer(void *arg)
{
	struct fchild *c = arg;
	struct fwd *f = c->e->priv;
	struct rx *r;
	struct nvmsg_view v;
	uint64_t k = 0, all = 0;
	int rc;

	if ((rc = open_rx(c->e, f->rx, "c0", &r)) < 0)
		return fbad(c->sh, "consumer open", rc);
	if (nvb_gate_arrive(&c->sh->gate) < 0)
		return -1;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	long v0 = ru.ru_nvcsw;
	for (;;) {
		if ((rc = rx_wait(r, &v)) < 0)
			return fbad(c->sh, "receive", rc);
		uint64_t t = nvb_now_ns();
		struct nvb_hdr hh;
		memcpy(&hh, v.data, sizeof(hh));
		if (hh.flags & NVB_END)
			break;
		all++;
		if (hh.seq >= c->pa->warm && k < c->cap)
			c->sh->dur[k++] =
				clamp32(t > hh.t_ns ? t - hh.t_ns : 0);
		if ((rc = rx_done(r)) < 0)
			return fbad(c->sh, "acknowledge", rc);
	}
	getrusage(RUSAGE_SELF, &ru);
	c->sh->sleeps = ru.ru_nvcsw - v0;
	nvmsg_ack(r->c);
	r->pending = 0;
	c->sh->n = k;
	c->sh->all = all;
	atomic_fetch_add(&c->sh->done, 1);
	rx_close(r);
	return 0;
}

/* f_watcher -- the origin channel: released at the sender */
static int
f_watcher(void *arg)
{
	struct fchild *c = arg;
	struct fwd *f = c->e->priv;
	struct nvmsg_consumer *w;
	struct nvmsg_view v;
	size_t dlen = 0, clen = 0;
	char path[1024];
	uint64_t k = 0;
	int rc, have = 0, unacked = 0;

	rc = nvmsg_consumer_open(f->tx, CHAN, "watch", 0, &w);
	if (rc < 0)
		return fbad(c->sh, "watcher open", rc);
	snprintf(path, sizeof(path), "%s/%s.nvmsg", f->tx, CHAN);
	char *data = map_file(path, "NVMSGCH", 1, &dlen);
	char *cur = map_file(f->linkcur, "NVMSGCU", 0, &clen);
	if (!data || !cur)
		return fbad(c->sh, "watcher map", -EIO);
	uint64_t prod_off;
	memcpy(&prod_off, data + DATA_PROD_OFF, 8);
	/* as a producer blocked on a full ring: the link consumer's ack
	 * wakes whoever waits on its ack_pub */
	_Atomic uint32_t *pw =
		(_Atomic uint32_t *)(void *)(data + prod_off + SLOT_WAITING);
	_Atomic uint64_t *ack = (_Atomic uint64_t *)(void *)(cur + CUR_ACK_PUB);
	if (!f->ded)
		atomic_store(pw, 1);
	if (nvb_gate_arrive(&c->sh->gate) < 0)
		return -1;
	uint64_t deadline = nvb_now_ns() + (uint64_t)WAIT_NS;
	for (;;) {
		uint64_t a = atomic_load_explicit(ack, memory_order_acquire);
		uint64_t t = nvb_now_ns();
		int progress = 0, end = 0;
		for (;;) {
			if (!have) {
				rc = nvmsg_view(w, &v, 0);
				if (rc == -EAGAIN)
					break;
				if (rc < 0)
					return fbad(c->sh, "watcher view", rc);
				have = 1;
			}
			/* the view's end: the ring position after it (the
			 * position an ack covering it stores) */
			if (a < v._end || v.producer != 0)
				break;
			struct nvb_hdr hh;
			memcpy(&hh, v.data, sizeof(hh));
			have = 0;
			progress = 1;
			if (hh.flags & NVB_END) {
				end = 1;
				break;
			}
			if (hh.seq >= c->pa->warm && k < c->cap)
				c->sh->rel[k++] =
					clamp32(t > hh.t_ns ? t - hh.t_ns : 0);
			if (++unacked >= 64) {
				nvmsg_ack(w);
				unacked = 0;
			}
		}
		if (end)
			break;
		if (progress)
			deadline = nvb_now_ns() + (uint64_t)WAIT_NS;
		else if (nvb_now_ns() > deadline)
			return fbad(c->sh, "watcher: no release", -ETIMEDOUT);
		if (f->ded) { /* a CPU of its own: poll the word */
			while (atomic_load_explicit(
				       ack, memory_order_acquire) == a &&
			       nvb_now_ns() < deadline)
				for (int i = 0; i < 64; i++)
					nvb_relax();
			continue;
		}
		/* the low half of the 64-bit word, as produce.c waits */
		futex_wait((void *)ack, (uint32_t)a, SLICE_NS);
	}
	atomic_store(pw, 0);
	nvmsg_ack(w);
	c->sh->rn = k;
	atomic_fetch_add(&c->sh->done, 1);
	nvmsg_consumer_close(&w);
	munmap(data, dlen);
	munmap(cur, clen);
	return 0;
}

int
nvb_fwd_rate(struct nvb_env *e, const struct nvb_params *pa,
	     struct nvb_result *r)
{
	uint64_t cap = pa->count + 1;
	size_t len = sizeof(struct fshared) + 3 * cap * sizeof(uint32_t);
	struct fshared *sh = nvb_shm(len);
	struct fchild kid = { e, pa, sh, cap };
	pid_t pids[3];
	int rc;

	if (!sh)
		return -ENOMEM;
	sh->dur = sh->samples;
	sh->rel = sh->samples + cap;
	sh->late = sh->samples + 2 * cap;
	pids[0] = nvb_fork(0, f_producer, &kid);
	pids[1] = nvb_fork(1, f_consumer, &kid);
	pids[2] =
		nvb_fork(((struct fwd *)e->priv)->ded ? 4 : 0, f_watcher, &kid);
	uint64_t deadline = nvb_now_ns() + 30000000000ull;
	while (atomic_load(&sh->gate.arrived) < 3 &&
	       !atomic_load(&sh->gate.failed) && nvb_now_ns() < deadline)
		usleep(200);
	if (atomic_load(&sh->gate.arrived) < 3)
		nvb_gate_fail(&sh->gate);
	sh->gate.t_go = nvb_now_ns();
	atomic_store(&sh->gate.go, 1);
	double t = 30 + (double)(pa->count + pa->warm) / pa->rate * 4;
	rc = nvb_wait_all(pids, 3, t);
	if (rc == 0 && !atomic_load(&sh->gate.failed) && sh->n > 0 &&
	    sh->rn > 0) {
		struct nvb_result late;
		nvb_summarise(sh->dur, sh->n, r);
		nvb_summarise_rel(sh->rel, sh->rn, r);
		memset(&late, 0, sizeof(late));
		if (sh->nlate)
			nvb_summarise(sh->late, sh->nlate, &late);
		r->acks = sh->sent;
		r->sleeps_per_msg =
			sh->all ? (double)sh->sleeps / (double)sh->all : 0;
		int k = snprintf(r->note, sizeof(r->note),
				 "producer's timer late by p50 %.1f us, p99 "
				 "%.1f us (not counted)",
				 late.p50 / 1e3, late.p99 / 1e3);
		/* sends held back by the path (a full origin ring): the
		 * offered rate was not sustained */
		if (sh->behind * 100 > sh->n && k > 0 &&
		    (size_t)k < sizeof(r->note))
			k += snprintf(r->note + k, sizeof(r->note) - (size_t)k,
				      "; OVERLOADED: %llu sends held back by "
				      "the one before, which blocked (counted)",
				      (unsigned long long)sh->behind);
		if (sh->sent < sh->offered + 1 && k > 0 &&
		    (size_t)k < sizeof(r->note))
			snprintf(r->note + k, sizeof(r->note) - (size_t)k,
				 "; OVERLOADED: slower than the offered "
				 "rate, sent %llu of %llu messages in twice "
				 "the schedule",
				 (unsigned long long)sh->sent - 1,
				 (unsigned long long)sh->offered);
	} else {
		rc = -1;
	}
	nvb_shm_free(sh, len);
	return rc;
}
