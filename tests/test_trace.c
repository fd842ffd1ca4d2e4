/* SPDX-License-Identifier: MIT */
/*
 * tests/test_trace.c: the scheduling trace (core/trace.c).
 *
 * The file is checked by a small recursive-descent JSON parser below (no
 * external tool): it rejects anything RFC 8259 rejects that the writer could
 * plausibly produce, and while parsing it tallies the trace events (ph, tid,
 * name, ts, dur) and a few otherData fields. The parser is itself tested on
 * good and bad inputs first.
 *
 * The runtime tests use a workload in which every task yields until each
 * worker has polled one of them, so every worker has events; nothing is
 * timed. The writer's edge cases (a ring that wrapped in the middle of a
 * poll, a poll that never ended, a second finish, an unwritable path) are
 * driven directly on a hand-built runtime, so they are exact.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include "core/rt.h"
#include "helpers.h"

/* ---- a JSON checker that also tallies trace events */

struct jstats {
	unsigned long events;   /* objects with a "ph" */
	unsigned long meta;     /* "ph":"M" */
	unsigned long instants; /* "ph":"i" with "s":"t" */
	unsigned long polls;    /* "ph":"X", name "poll", ts >= 0, dur >= 0 */
	unsigned long bad_events; /* an event missing pid 1, tid or ts */
	uint64_t tids;          /* bit t: tid t has an event other than metadata */
	bool has_events_array;  /* "traceEvents":[...] */
	double dropped_total;   /* otherData.dropped_total, -1 if absent */
	double unmatched;       /* otherData.unmatched_poll_records, -1 if absent */
};

struct jp {
	const char *s;
	int depth;
	struct jstats *st;
};

enum jtype { J_OBJ, J_ARR, J_STR, J_NUM, J_LIT };

struct jval {
	enum jtype t;
	double num;
	char str[32]; /* a string value, truncated */
};

#define J_MAX_DEPTH 32

static void j_ws(struct jp *p)
{
	while (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r')
		p->s++;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool j_string(struct jp *p, char *out, size_t cap)
{
	size_t n = 0;

	if (*p->s != '"')
		return false;
	p->s++;
	for (;;) {
		unsigned char c = (unsigned char)*p->s;

		if (c == '"')
			break;
		if (c < 0x20) /* also the end of the text */
			return false;
		if (c == '\\') {
			p->s++;
			c = (unsigned char)*p->s;
			if (c == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!is_hex(p->s[i]))
						return false;
				p->s += 4;
			} else if (!strchr("\"\\/bfnrt", c) || !c) {
				return false;
			}
		}
		if (out && n + 1 < cap)
			out[n++] = (char)c;
		p->s++;
	}
	p->s++;
	if (out)
		out[n] = '\0';
	return true;
}

static bool j_number(struct jp *p, double *out)
{
	const char *start = p->s;
	char buf[64];

	if (*p->s == '-')
		p->s++;
	if (*p->s == '0') {
		p->s++;
	} else if (*p->s >= '1' && *p->s <= '9') {
		while (is_digit(*p->s))
			p->s++;
	} else {
		return false;
	}
	if (*p->s == '.') {
		p->s++;
		if (!is_digit(*p->s))
			return false;
		while (is_digit(*p->s))
			p->s++;
	}
	if (*p->s == 'e' || *p->s == 'E') {
		p->s++;
		if (*p->s == '+' || *p->s == '-')
			p->s++;
		if (!is_digit(*p->s))
			return false;
		while (is_digit(*p->s))
			p->s++;
	}
	size_t len = (size_t)(p->s - start);

	if (len >= sizeof buf)
		len = sizeof buf - 1;
	memcpy(buf, start, len);
	buf[len] = '\0';
	*out = strtod(buf, NULL);
	return true;
}

static bool j_value(struct jp *p, struct jval *v);

/* The fields of one object that matter for a trace event. */
struct jobj {
	char ph[32], name[32], scope[32]; /* as long as jval.str */
	double pid, tid, ts, dur;
	bool has_pid, has_tid, has_ts, has_dur;
};

static void j_member(struct jp *p, struct jobj *o, const char *key, const struct jval *v)
{
	if (v->t == J_STR) {
		if (!strcmp(key, "ph"))
			strcpy(o->ph, v->str);
		else if (!strcmp(key, "name"))
			strcpy(o->name, v->str);
		else if (!strcmp(key, "s"))
			strcpy(o->scope, v->str);
	} else if (v->t == J_NUM) {
		if (!strcmp(key, "pid"))
			o->pid = v->num, o->has_pid = true;
		else if (!strcmp(key, "tid"))
			o->tid = v->num, o->has_tid = true;
		else if (!strcmp(key, "ts"))
			o->ts = v->num, o->has_ts = true;
		else if (!strcmp(key, "dur"))
			o->dur = v->num, o->has_dur = true;
		else if (!strcmp(key, "dropped_total"))
			p->st->dropped_total = v->num;
		else if (!strcmp(key, "unmatched_poll_records"))
			p->st->unmatched = v->num;
	} else if (v->t == J_ARR && p->depth == 1 && !strcmp(key, "traceEvents")) {
		p->st->has_events_array = true;
	}
}

static void j_event(struct jp *p, const struct jobj *o)
{
	struct jstats *st = p->st;

	if (!o->ph[0])
		return;
	st->events++;
	if (!o->has_pid || o->pid != 1 || !o->has_tid || o->tid < 0 || o->tid >= 64) {
		st->bad_events++;
		return;
	}
	if (!strcmp(o->ph, "M")) {
		st->meta++;
		return;
	}
	if (!o->has_ts || o->ts < 0) {
		st->bad_events++;
		return;
	}
	st->tids |= 1ull << (unsigned)o->tid;
	if (!strcmp(o->ph, "i") && !strcmp(o->scope, "t"))
		st->instants++;
	else if (!strcmp(o->ph, "X") && !strcmp(o->name, "poll") && o->has_dur && o->dur >= 0)
		st->polls++;
	else
		st->bad_events++;
}

static bool j_object(struct jp *p)
{
	struct jobj o = { .ph = "" };
	char key[32];
	struct jval v;

	p->s++; /* '{' */
	j_ws(p);
	if (*p->s == '}') {
		p->s++;
		return true;
	}
	for (;;) {
		j_ws(p);
		if (!j_string(p, key, sizeof key))
			return false;
		j_ws(p);
		if (*p->s != ':')
			return false;
		p->s++;
		if (!j_value(p, &v))
			return false;
		j_member(p, &o, key, &v);
		j_ws(p);
		if (*p->s == ',') {
			p->s++;
			continue;
		}
		if (*p->s != '}')
			return false;
		p->s++;
		j_event(p, &o);
		return true;
	}
}

static bool j_array(struct jp *p)
{
	struct jval v;

	p->s++; /* '[' */
	j_ws(p);
	if (*p->s == ']') {
		p->s++;
		return true;
	}
	for (;;) {
		if (!j_value(p, &v))
			return false;
		j_ws(p);
		if (*p->s == ',') {
			p->s++;
			continue;
		}
		if (*p->s != ']')
			return false;
		p->s++;
		return true;
	}
}

static bool j_literal(struct jp *p, const char *word)
{
	size_t n = strlen(word);

	if (strncmp(p->s, word, n) != 0)
		return false;
	p->s += n;
	return true;
}

static bool j_value(struct jp *p, struct jval *v)
{
	bool ok;

	j_ws(p);
	v->str[0] = '\0';
	switch (*p->s) {
	case '{':
	case '[':
		if (p->depth == J_MAX_DEPTH)
			return false;
		p->depth++;
		v->t = *p->s == '{' ? J_OBJ : J_ARR;
		ok = v->t == J_OBJ ? j_object(p) : j_array(p);
		p->depth--;
		return ok;
	case '"':
		v->t = J_STR;
		return j_string(p, v->str, sizeof v->str);
	case 't':
		v->t = J_LIT;
		return j_literal(p, "true");
	case 'f':
		v->t = J_LIT;
		return j_literal(p, "false");
	case 'n':
		v->t = J_LIT;
		return j_literal(p, "null");
	default:
		v->t = J_NUM;
		return j_number(p, &v->num);
	}
}

/* True if text is one JSON value (and only that); *st gets the tallies. */
static bool json_check(const char *text, struct jstats *st)
{
	struct jp p = { .s = text, .depth = 0, .st = st };
	struct jval v;

	memset(st, 0, sizeof *st);
	st->dropped_total = -1;
	st->unmatched = -1;
	if (!j_value(&p, &v))
		return false;
	j_ws(&p);
	return *p.s == '\0';
}

VOLT_TEST(trace_json_checker)
{
	static const char *const good[] = {
		"{}", "[]", "0", "-0.5e+3", "\"\"", "true", " null ",
		"{\"a\":[1,-2.5E3,true,false,null,\"x\\u00e9\\n\\\"\"],\"b\":{\"c\":{}}}",
		"[[[[]]]]", "1e5", "{\"k\" : 12.000 ,\n\"j\":\"\\/\"}",
	};
	static const char *const bad[] = {
		"", "{", "[", "{\"a\":1,}", "[1,]", "[1 2]", "{\"a\" 1}", "{'a':1}",
		"{\"a\":01}", "1.", "-", ".5", "+1", "1e", "\"\x01\"", "\"\\q\"", "\"\\u12g4\"",
		"\"abc", "{\"a\":1}x", "tru", "nul", "{a:1}", "[1]]", "{\"a\":1}}",
		"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
	};
	struct jstats st;

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		CHECK_MSG(json_check(good[i], &st), "rejected good JSON %s", good[i]);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK_MSG(!json_check(bad[i], &st), "accepted bad JSON %s", bad[i]);

	CHECK(json_check("{\"traceEvents\":[{\"name\":\"poll\",\"ph\":\"X\",\"pid\":1,\"tid\":3,"
			 "\"ts\":1.5,\"dur\":0.25,\"args\":{\"task\":\"0x1\"}},"
			 "{\"name\":\"wake\",\"ph\":\"i\",\"s\":\"t\",\"pid\":1,\"tid\":0,\"ts\":0}],"
			 "\"otherData\":{\"dropped_total\":7}}", &st));
	CHECK(st.has_events_array);
	CHECK_EQ(st.events, 2);
	CHECK_EQ(st.polls, 1);
	CHECK_EQ(st.instants, 1);
	CHECK_EQ(st.bad_events, 0);
	CHECK_UEQ(st.tids, 0x9);
	CHECK(st.dropped_total == 7);
}

/* ---- files */

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text;
	long len;

	CHECK_MSG(f != NULL, "%s: %s", path, strerror(errno));
	CHECK_OK(fseek(f, 0, SEEK_END));
	len = ftell(f);
	CHECK_GE(len, 0);
	rewind(f);
	text = malloc((size_t)len + 1);
	CHECK(text != NULL);
	CHECK_EQ(fread(text, 1, (size_t)len, f), len);
	text[len] = '\0';
	fclose(f);
	return text;
}

/* A mkstemp/mkdtemp template for `name` in $TMPDIR, else /tmp. */
static void temp_template(char *buf, size_t len, const char *name)
{
	const char *dir = getenv("TMPDIR");

	snprintf(buf, len, "%s/%s-XXXXXX", dir && *dir ? dir : "/tmp", name);
}

/* A fresh temporary file name (the file exists, empty). */
static void temp_path(char *buf, size_t len)
{
	int fd;

	temp_template(buf, len, "volt-trace");
	fd = mkstemp(buf);
	CHECK_MSG(fd >= 0, "mkstemp %s: %s", buf, strerror(errno));
	close(fd);
}

static bool exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

static void check_trace_file(const char *path, unsigned workers, struct jstats *st)
{
	char *text = read_text(path);

	CHECK_MSG(json_check(text, st), "%s is not valid JSON", path);
	CHECK(st->has_events_array);
	CHECK(strstr(text, "\"displayTimeUnit\":\"ns\"") != NULL);
	CHECK(strstr(text, "\"otherData\":{") != NULL);
	CHECK(strstr(text, "\"thread_name\"") != NULL);
	CHECK_EQ(st->bad_events, 0);
	CHECK_GE(st->meta, workers); /* a thread_name per worker at least */
	CHECK_UEQ(st->tids, (1ull << workers) - 1);
	CHECK(st->dropped_total >= 0);
	CHECK(st->unmatched >= 0);
	free(text);
}

/* ---- a workload that reaches every worker */

struct spread {
	struct volt_future base;
	atomic_uint *seen; /* bit w: worker w polled one of the tasks */
	unsigned all;
	unsigned left;     /* yields still to make before finishing */
};

static enum volt_poll spread_poll(struct volt_future *f, struct volt_cx *cx)
{
	struct spread *s = (struct spread *)f;

	VOLT_BEGIN(f);
	for (;;) {
		atomic_fetch_or(s->seen, 1u << volt_worker_index());
		if (s->left)
			s->left--;
		if (!s->left && (atomic_load(s->seen) & s->all) == s->all)
			break;
		VOLT_YIELD(f, cx);
	}
	VOLT_END(f);
}

static const struct volt_future_ops spread_ops = { spread_poll, NULL };

#define SPREAD_TASKS 16
#define SPREAD_YIELDS 20

/* Every worker polls at least one task; at least SPREAD_TASKS * SPREAD_YIELDS polls. */
static void run_spread(struct volt_rt *rt)
{
	struct volt_join *j[SPREAD_TASKS];
	atomic_uint seen = 0;
	struct spread s = {
		.base = VOLT_FUTURE_INIT(&spread_ops),
		.seen = &seen,
		.all = (1u << volt_rt_workers(rt)) - 1,
		.left = SPREAD_YIELDS,
	};

	for (int i = 0; i < SPREAD_TASKS; i++)
		j[i] = vt_spawn(rt, &s, sizeof s, false);
	for (int i = 0; i < SPREAD_TASKS; i++)
		vt_join(j[i]);
	CHECK_EQ(atomic_load(&seen), s.all);
}

static struct volt_rt *traced_rt(const char *policy, const char *path, unsigned events)
{
	struct volt_config cfg;
	struct volt_rt *rt = NULL;

	vt_cfg(&cfg, policy, 2);
	cfg.trace = path;
	cfg.trace_events = events;
	CHECK_OK(volt_rt_new(&cfg, &rt));
	CHECK_STR_EQ(volt_rt_scheduler(rt), policy);
	return rt;
}

VOLT_RT_TEST(trace_file)
{
	char path[256];
	struct jstats st;
	unsigned workers;
	struct volt_rt *rt;

	temp_path(path, sizeof path);
	rt = traced_rt(policy, path, 65536);
	workers = volt_rt_workers(rt);
	CHECK_EQ(workers, vt_workers(policy, 2));
	for (unsigned w = 0; w < workers; w++) {
		CHECK(rt->workers[w].trace.rec != NULL);
		CHECK_EQ(rt->workers[w].trace.mask, 65535);
	}
	run_spread(rt);
	volt_rt_free(rt);

	check_trace_file(path, workers, &st);
	CHECK_GE(st.polls, 1);
	if (st.dropped_total == 0) /* every poll made it into the file */
		CHECK_GE(st.polls, SPREAD_TASKS * SPREAD_YIELDS);
	unlink(path);
}

VOLT_RT_TEST(trace_wraps)
{
	char path[256], *text;
	struct jstats st;
	unsigned workers;
	struct volt_rt *rt;

	temp_path(path, sizeof path);
	rt = traced_rt(policy, path, 16);
	workers = volt_rt_workers(rt);
	run_spread(rt); /* >= 320 polls, two records each, over <= 2 rings of 16 */
	volt_rt_free(rt);

	check_trace_file(path, workers, &st);
	CHECK(st.dropped_total > 0);
	text = read_text(path);
	CHECK(strstr(text, "\"trace_events\":16,") != NULL);
	free(text);
	unlink(path);
}

VOLT_RT_TEST(trace_off_writes_nothing)
{
	char dir[256], cwd[1024];
	struct volt_config cfg;
	struct volt_rt *rt = NULL;
	DIR *d;
	struct dirent *e;
	int entries = 0;

	CHECK_OK(unsetenv("VOLT_TRACE"));
	temp_template(dir, sizeof dir, "volt-notrace");
	CHECK(mkdtemp(dir) != NULL);
	CHECK(getcwd(cwd, sizeof cwd) != NULL);
	CHECK_OK(chdir(dir));

	vt_cfg(&cfg, policy, 2);
	CHECK(cfg.trace == NULL);
	CHECK_OK(volt_rt_new(&cfg, &rt));
	for (unsigned w = 0; w < volt_rt_workers(rt); w++)
		CHECK(rt->workers[w].trace.rec == NULL);
	run_spread(rt);
	volt_rt_free(rt);

	d = opendir(".");
	CHECK(d != NULL);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			entries++;
	closedir(d);
	CHECK_OK(chdir(cwd));
	CHECK_OK(rmdir(dir));
	CHECK_EQ(entries, 0);
}

VOLT_RT_TEST(trace_unwritable_path)
{
	static const char path[] = "/nonexistent/dir/x.json";
	struct volt_rt *rt;
	int saved, null_fd;

	rt = traced_rt(policy, path, 64);
	run_spread(rt);
	/* volt_rt_free reports the failure on stderr: keep the test log quiet */
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	null_fd = open("/dev/null", O_WRONLY);
	CHECK(saved >= 0 && null_fd >= 0);
	CHECK_GE(dup2(null_fd, STDERR_FILENO), 0);
	volt_rt_free(rt); /* the rings are freed anyway: LeakSanitizer checks */
	fflush(stderr);
	CHECK_GE(dup2(saved, STDERR_FILENO), 0);
	close(saved);
	close(null_fd);
	CHECK(!exists(path));
}

/* ---- the writer on a hand-built runtime: exact edge cases */

static struct volt_rt *fake_rt(const char *path, unsigned workers)
{
	size_t rb = (sizeof(struct volt_rt) + VOLT__CACHELINE - 1) & ~(size_t)(VOLT__CACHELINE - 1);
	size_t wb = (workers * sizeof(struct volt__worker) + VOLT__CACHELINE - 1) &
		    ~(size_t)(VOLT__CACHELINE - 1);
	struct volt_rt *rt = aligned_alloc(VOLT__CACHELINE, rb);

	CHECK(rt != NULL);
	memset(rt, 0, rb);
	rt->workers = aligned_alloc(VOLT__CACHELINE, wb);
	CHECK(rt->workers != NULL);
	memset(rt->workers, 0, wb);
	rt->nworkers = workers;
	rt->seed = UINT64_MAX; /* written as a string, so it survives a double */
	rt->sched_ops = volt__sched_find("global");
	CHECK(rt->sched_ops != NULL);
	rt->cfg.workers = workers;
	rt->cfg.trace = path;
	rt->cfg.trace_events = 16;
	rt->cfg.lifo = true;
	CHECK_OK(volt__trace_init(rt));
	return rt;
}

static void fake_free(struct volt_rt *rt)
{
	for (unsigned w = 0; w < rt->nworkers; w++)
		CHECK(rt->workers[w].trace.rec == NULL);
	free(rt->workers);
	free(rt);
}

VOLT_TEST(trace_writer_edges)
{
	char path[256], *text;
	struct jstats st;
	struct volt_rt *rt;
	struct volt__trace_buf *b0, *b1;

	temp_path(path, sizeof path);

	/* capacity rounds up to a power of two */
	rt = fake_rt(path, 1);
	rt->cfg.trace_events = 17;
	CHECK_OK(volt__trace_finish(rt, false));
	CHECK_OK(volt__trace_init(rt));
	CHECK_EQ(rt->workers[0].trace.mask, 31);
	/* no record at all: still a valid file, metadata only */
	CHECK_OK(volt__trace_finish(rt, true));
	fake_free(rt);
	check_trace_file(path, 0, &st);
	CHECK_EQ(st.meta, 3); /* process name, thread name, sort index */
	CHECK_EQ(st.events, st.meta);

	rt = fake_rt(path, 2);
	b0 = &rt->workers[0].trace;
	b1 = &rt->workers[1].trace;
	CHECK_EQ(b0->mask, 15);

	/* worker 0: an END whose BEGIN is gone, one poll with instants, a BEGIN left open */
	volt__trace_record(b0, VOLT__TR_POLL_END, 0);
	volt__trace_record(b0, VOLT__TR_POLL_BEGIN, 0x10);
	volt__trace_record(b0, VOLT__TR_WAKE, 0x20);
	volt__trace_record(b0, VOLT__TR_STEAL, 3);
	volt__trace_record(b0, VOLT__TR_POLL_END, 1);
	volt__trace_record(b0, VOLT__TR_PARK, 0);
	volt__trace_record(b0, VOLT__TR_UNPARK, 0);
	volt__trace_record(b0, VOLT__TR_SPAWN, 0x30);
	volt__trace_record(b0, VOLT__TR_POLL_BEGIN, 0x40);

	/* worker 1: 20 polls then a steal into a ring of 16: records 25..40 survive,
	 * the first of them an END whose BEGIN was overwritten */
	for (int i = 0; i < 20; i++) {
		volt__trace_record(b1, VOLT__TR_POLL_BEGIN, 0x100 + i);
		volt__trace_record(b1, VOLT__TR_POLL_END, 0);
	}
	volt__trace_record(b1, VOLT__TR_STEAL, 1);
	CHECK_UEQ(b1->next, 41);

	CHECK_OK(volt__trace_finish(rt, true));
	check_trace_file(path, 2, &st);
	CHECK_EQ(st.polls, 1 + 7);
	CHECK_EQ(st.instants, 5 + 1);
	CHECK(st.dropped_total == 25);
	CHECK(st.unmatched == 3);
	text = read_text(path);
	CHECK(strstr(text, "\"task\":\"0x10\",\"ready\":1") != NULL);
	CHECK(strstr(text, "\"task\":\"0x40\"") == NULL);    /* the open BEGIN */
	CHECK(strstr(text, "\"task\":\"0x10c\"") == NULL);   /* overwritten */
	CHECK(strstr(text, "\"task\":\"0x10d\"") != NULL);   /* the oldest whole poll kept */
	CHECK(strstr(text, "\"dropped\":[0,25]") != NULL);
	CHECK(strstr(text, "\"seed\":\"18446744073709551615\"") != NULL);
	CHECK(strstr(text, "\"scheduler\":\"global\"") != NULL);
	CHECK(strstr(text, "\"name\":\"worker 1\"") != NULL);
	free(text);

	/* a second finish is a no-op: it neither writes nor fails */
	CHECK_OK(unlink(path));
	CHECK_OK(volt__trace_finish(rt, true));
	CHECK_OK(volt__trace_finish(rt, false));
	CHECK(!exists(path));
	fake_free(rt);

	/* an unwritable path: -errno, and the rings are freed all the same */
	rt = fake_rt("/nonexistent/dir/x.json", 2);
	volt__trace_record(&rt->workers[1].trace, VOLT__TR_PARK, 0);
	CHECK_EQ(volt__trace_finish(rt, true), -ENOENT);
	fake_free(rt);

	/* tracing off: init allocates nothing, finish does nothing */
	rt = fake_rt(NULL, 2);
	CHECK(rt->workers[0].trace.rec == NULL);
	CHECK_OK(volt__trace_finish(rt, true));
	fake_free(rt);
}
