/*
 * troupe_cgrant — which control socket, and the broker's grant of a
 * client link (see troupe_cgrant.h).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <nng/nng.h>

#include "tp_body.h"
#include "tp_dial.h"
#include "tp_nng.h"
#include "tp_run.h"
#include "troupe_cgrant.h"

#define URL_MAX TROUPE_CGRANT_URL_MAX

static __thread char open_error[1024];

const char *
troupe_client_open_error(void)
{
	return open_error;
}

int
troupe_cgrant_fail(int rv, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(open_error, sizeof(open_error), fmt, ap);
	va_end(ap);
	return rv;
}

/* The one zero-config node running here (BASE/NAME/ctl.sock), if one. */
static int
only_node(char *url, size_t len)
{
	char base[URL_MAX], path[URL_MAX + 300], found[URL_MAX + 300];
	struct dirent *d;
	struct stat st;
	int n = 0;
	DIR *dir;

	if (tp_run_node_base(base, sizeof(base)) != 0 ||
	    (dir = opendir(base)) == NULL)
		return -1;
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/ctl.sock", base,
		    d->d_name);
		if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode) && n++ == 0)
			snprintf(found, sizeof(found), "%s", path);
	}
	closedir(dir);
	if (n != 1)
		return -1;
	return snprintf(url, len, "ipc://%s", found) < (int)len ? 0 : -1;
}

static int
url_of(const char *where, char *url, size_t len)
{
	char dir[URL_MAX];
	const char *e;

	if (where == NULL && (e = getenv("TROUPE_BROKER")) != NULL && *e)
		where = e;
	if (where != NULL && strstr(where, "://") != NULL)
		return snprintf(url, len, "%s", where) < (int)len ? 0 : -1;
	if (where == NULL && (e = getenv("TROUPE_RUN_DIR")) != NULL && *e)
		where = e;
	if (where == NULL && (e = getenv("TROUPE_NODE")) != NULL && *e &&
	    tp_run_node_dir(e, dir, sizeof(dir)) == 0)
		where = dir;
	if (where == NULL && tp_run_default_dir(dir, sizeof(dir)) == 0) {
		char path[URL_MAX + 16];
		struct stat st;

		/* nothing in the default run dir: the one zero-config node
		 * running here, if there is exactly one */
		snprintf(path, sizeof(path), "%s/ctl.sock", dir);
		if (stat(path, &st) != 0 && only_node(url, len) == 0)
			return 0;
		where = dir;
	}
	if (where == NULL)
		return -1;
	return snprintf(url, len, "ipc://%s/ctl.sock", where) < (int)len ?
	    0 : -1;
}

int
troupe_cgrant_url(const char *where, char *url, size_t len)
{
	if (url_of(where, url, len) == 0)
		return 0;
	return troupe_cgrant_fail(TP_EINVAL, "no broker named by '%.400s'",
	    where != NULL ? where : "(default)");
}

/* The broker's answer map, into g. */
static int
read_grant(const msgpack_object *o, struct troupe_grant *g)
{
	struct tp_err err = { 0 };
	uint64_t window;
	struct tp_body b;

	if (tp_body_open(&b, o, 0, NULL, &err) != 0 ||
	    tp_body_strz(&b, "url", TP_BODY_NONEMPTY, g->g_link,
	    sizeof(g->g_link)) != 0 ||
	    tp_body_strz(&b, "name", TP_BODY_NONEMPTY, g->g_name,
	    sizeof(g->g_name)) != 0 ||
	    tp_body_strz(&b, "node", TP_BODY_NONEMPTY, g->g_node,
	    sizeof(g->g_node)) != 0 ||
	    tp_body_uint(&b, "window", 0, 1, 65536, &window) != 0 ||
	    tp_body_uint(&b, "max_body", 0, 1, UINT32_MAX,
	    &g->g_max_body) != 0)
		return troupe_cgrant_fail(TP_EPEER, "the broker's client grant "
		    "is not understood: %s", err.e_msg);
	g->g_window = (uint32_t)window;
	return 0;
}

int
troupe_cgrant_error(const msgpack_object *o, char *msg, size_t len)
{
	struct tp_body b;
	int64_t code = 0;

	msg[0] = '\0';
	if (tp_body_open(&b, o, 0, NULL, NULL) == 0) {
		tp_body_int(&b, "code", TP_BODY_OPT, 1, INT32_MAX, &code);
		tp_body_strz(&b, "message", TP_BODY_OPT, msg, len);
	}
	return code > 0 ? (int)code : TROUPE_ERR_BAD_REQUEST;
}

/* ERROR {"code", "message"}: the code as a TP_E* for open. */
static int
grant_error(const msgpack_object *o, const char *url)
{
	char text[256];	/* the broker's texts are at most 255 bytes */
	int code = troupe_cgrant_error(o, text, sizeof(text));

	troupe_cgrant_fail(0, "%.500s: %s", url, text);
	return code == TROUPE_ERR_PERMISSION ? TP_EPERM :
	    code == TROUPE_ERR_BUSY ? TP_EAGAIN : TP_EPEER;
}

static int
answer(const struct tp_env *env, const char *url, struct troupe_grant *g)
{
	msgpack_zone z;
	msgpack_object o;
	int rv;

	if (!msgpack_zone_init(&z, 1024))
		return troupe_cgrant_fail(TP_ENOMEM, "out of memory");
	if (tp_env_body(env, &z, &o, NULL) != 0)
		rv = troupe_cgrant_fail(TP_EPEER, "bad answer from %.500s",
		    url);
	else if (env->e_kind == TP_K_ERROR)
		rv = grant_error(&o, url);
	else if (env->e_kind != TP_K_REPLY)
		rv = troupe_cgrant_fail(TP_EPEER, "bad answer from %.500s",
		    url);
	else
		rv = read_grant(&o, g);
	msgpack_zone_destroy(&z);
	return rv;
}

static int
request(nng_socket s, const char *url, const struct tp_limits *lim,
    struct troupe_grant *g)
{
	static const uint8_t op[] = { 0x81, 0xa2, 'o', 'p', 0xa6, 'c', 'l',
	    'i', 'e', 'n', 't' };
	struct tp_env env = { .e_kind = TP_K_CONTROL, .e_id = 1,
	    .e_body = op, .e_body_len = sizeof(op) };
	struct tp_err err = { 0 };
	msgpack_packer pk;
	nng_msg *m;
	int rv;

	env.e_from = tp_slice_str("cli");
	env.e_to = tp_slice_str("");
	if (nng_msg_alloc(&m, 0) != 0)
		return troupe_cgrant_fail(TP_ENOMEM, "out of memory");
	tp_packer_init_msg(&pk, m);
	if (tp_env_pack(&pk, &env) != 0 || nng_sendmsg(s, m, 0) != 0) {
		nng_msg_free(m);
		return troupe_cgrant_fail(TP_ENOMEM, "cannot send to %.500s",
		    url);
	}
	if (nng_recvmsg(s, &m, 0) != 0)
		return troupe_cgrant_fail(TP_ETIMEDOUT, "no answer from the "
		    "broker at %.500s", url);
	if (tp_env_decode(nng_msg_body(m), nng_msg_len(m), lim, &env,
	    &err) != 0)
		rv = troupe_cgrant_fail(TP_EPEER, "bad answer from %.500s: %s",
		    url, err.e_msg);
	else
		rv = answer(&env, url, g);
	nng_msg_free(m);
	return rv;
}

int
troupe_cgrant_ask(const char *url, int timeout_ms,
    const struct tp_limits *lim, struct troupe_grant *g)
{
	struct tp_dialw w = { 0 };
	struct tp_err err = { 0 };
	nng_socket s;
	int rv;

	if ((rv = tp_sock_open(&s, TP_REQ, NULL, &err)) != 0)
		return troupe_cgrant_fail(rv, "%s", err.e_msg);
	if ((rv = tp_dial_wait(&w, s, url, timeout_ms, &err)) != 0)
		troupe_cgrant_fail(rv, "cannot reach the broker at %.500s: %s",
		    url, err.e_msg);
	else {
		nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, timeout_ms);
		nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, timeout_ms);
		rv = request(s, url, lim, g);
	}
	nng_close(s);
	tp_dial_fini(&w);
	return rv;
}
