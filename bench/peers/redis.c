/* SPDX-License-Identifier: MIT */
/*
 * redis.c -- peer: Redis Streams.  The case process starts its own
 * redis-server on 127.0.0.1 (a free port), data in the case's directory
 * on the real disk, `appendonly yes` and `appendfsync always`: Redis
 * writes and fdatasyncs the AOF before it answers, so a XADD's reply is
 * an acknowledgement of a durable message.  Stopped by pid at teardown.
 *
 *   send  XADD bench<chan> * d <payload>, waiting for the reply (hiredis,
 *         synchronous);
 *   recv  XREAD BLOCK 0 COUNT 128 from the last id seen; each consumer
 *         reads the whole stream (fan-out), producers share it (fan-in).
 */
#include "../worker/bench.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct srv {
	pid_t pid;
	int port;
};

static int
setup(struct nvb_env *e)
{
	struct srv *s = calloc(1, sizeof(*s));
	char port[16], log[512];

	if (!s)
		return -ENOMEM;
	s->port = nvb_free_port();
	snprintf(port, sizeof(port), "%d", s->port);
	snprintf(log, sizeof(log), "%s/redis.log", e->dir);
	char *argv[] = { "redis-server",
			 "--port",
			 port,
			 "--bind",
			 "127.0.0.1",
			 "--dir",
			 (char *)e->dir,
			 "--appendonly",
			 "yes",
			 "--appendfsync",
			 "always",
			 "--save",
			 "",
			 "--daemonize",
			 "no",
			 "--protected-mode",
			 "yes",
			 NULL };
	s->pid = nvb_spawn(e->dir, argv, log);
	e->priv = s;
	if (s->pid < 0 || nvb_wait_port(s->port, 10) < 0) {
		fprintf(stderr,
			"bench redis: redis-server did not start "
			"(see %s)\n",
			log);
		return -ECONNREFUSED;
	}
	redisContext *c = redisConnect("127.0.0.1", s->port);
	redisReply *r = c && !c->err ? redisCommand(c, "INFO server") : NULL;
	const char *v = r && r->type == REDIS_REPLY_STRING
				? strstr(r->str, "redis_version:")
				: NULL;
	snprintf(e->note, sizeof(e->note), "redis %.*s, appendfsync always",
		 v ? (int)strcspn(v + 14, "\r\n") : 1, v ? v + 14 : "?");
	if (r)
		freeReplyObject(r);
	if (c)
		redisFree(c);
	return 0;
}

static void
teardown(struct nvb_env *e)
{
	struct srv *s = e->priv;

	if (!s)
		return;
	nvb_stop(s->pid, 1);
	free(s);
	e->priv = NULL;
}

static redisContext *
connect_to(struct nvb_env *e)
{
	struct srv *s = e->priv;
	redisContext *c = redisConnect("127.0.0.1", s->port);

	if (!c || c->err) {
		fprintf(stderr, "bench redis: connect: %s\n",
			c ? c->errstr : "out of memory");
		if (c)
			redisFree(c);
		return NULL;
	}
	return c;
}

struct tx {
	redisContext *c;
	char key[16];
};

static int
tx_open(struct nvb_env *e, int chan, int prod, void **h)
{
	struct tx *t = calloc(1, sizeof(*t));

	(void)prod;
	if (!t || !(t->c = connect_to(e)))
		return -ECONNREFUSED;
	snprintf(t->key, sizeof(t->key), "bench%d", chan);
	*h = t;
	return 0;
}

static int
tx_send(void *h, const void *buf, size_t len, int more)
{
	struct tx *t = h;
	redisReply *r = redisCommand(t->c, "XADD %s * d %b", t->key, buf, len);
	int ok = r && r->type == REDIS_REPLY_STRING;

	(void)more;
	if (!ok)
		fprintf(stderr, "bench redis: XADD: %s\n",
			r && r->type == REDIS_REPLY_ERROR ? r->str
							  : t->c->errstr);
	if (r)
		freeReplyObject(r);
	return ok ? 0 : -EIO;
}

static void
tx_close(void *h)
{
	struct tx *t = h;

	redisFree(t->c);
	free(t);
}

struct rx {
	redisContext *c;
	char key[16];
	char last[64];	   /* id of the last entry taken */
	redisReply *batch; /* current XREAD reply */
	size_t next;	   /* next entry of batch */
	size_t cap;
	unsigned char *buf; /* aligned copy: hiredis strings are not */
};

static int
rx_open(struct nvb_env *e, int chan, int cons, void **h)
{
	struct rx *x = calloc(1, sizeof(*x));

	(void)cons;
	if (!x || !(x->c = connect_to(e)))
		return -ECONNREFUSED;
	snprintf(x->key, sizeof(x->key), "bench%d", chan);
	snprintf(x->last, sizeof(x->last), "0-0");
	x->cap = (e->size + 63) & ~(size_t)63;
	x->buf = aligned_alloc(64, x->cap);
	if (!x->buf)
		return -ENOMEM;
	*h = x;
	return 0;
}

/* entries -- the entry array of an XREAD reply (one stream), or NULL */
static redisReply *
entries(redisReply *r)
{
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 1)
		return NULL;
	redisReply *s = r->element[0];
	if (s->type != REDIS_REPLY_ARRAY || s->elements < 2 ||
	    s->element[1]->type != REDIS_REPLY_ARRAY)
		return NULL;
	return s->element[1];
}

static int
rx_recv(void *h, const void **data, size_t *len)
{
	struct rx *x = h;
	redisReply *es = entries(x->batch);

	while (!es || x->next >= es->elements) {
		if (x->batch)
			freeReplyObject(x->batch);
		x->next = 0;
		x->batch = redisCommand(x->c,
					"XREAD BLOCK 0 COUNT 128 STREAMS %s %s",
					x->key, x->last);
		if (!x->batch) {
			fprintf(stderr, "bench redis: XREAD: %s\n",
				x->c->errstr);
			return -EIO;
		}
		es = entries(x->batch);
	}
	redisReply *en = es->element[x->next++];
	if (en->type != REDIS_REPLY_ARRAY || en->elements < 2 ||
	    en->element[1]->type != REDIS_REPLY_ARRAY ||
	    en->element[1]->elements < 2)
		return -EPROTO;
	snprintf(x->last, sizeof(x->last), "%s", en->element[0]->str);
	redisReply *v = en->element[1]->element[1];
	if (v->type != REDIS_REPLY_STRING || v->len > x->cap)
		return -EPROTO;
	memcpy(x->buf, v->str, v->len);
	*data = x->buf;
	*len = v->len;
	return 0;
}

static int
rx_done(void *h)
{
	(void)h;
	return 0;
}

static void
rx_close(void *h)
{
	struct rx *x = h;

	if (x->batch)
		freeReplyObject(x->batch);
	redisFree(x->c);
	free(x->buf);
	free(x);
}

const struct nvb_tp nvb_tp_redis = {
	.name = "redis",
	.setup = setup,
	.teardown = teardown,
	.tx_open = tx_open,
	.send = tx_send,
	.tx_close = tx_close,
	.rx_open = rx_open,
	.recv = rx_recv,
	.done = rx_done,
	.rx_close = rx_close,
};
