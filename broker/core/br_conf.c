/*
 * br_conf — the trouped configuration: parse (libinih) and validate.  The
 * key tables, value checks, defaults and printer are in br_confval.c.
 *
 * inih as Debian builds it (55-1) calls the handler with a line number,
 * keeps multi-line values on (an indented line silently continues the
 * previous value), allows inline comments after a blank (`a = b ; c`),
 * truncates lines at 200 bytes and section names at 50, and never tells
 * the handler about a section without keys.  So we feed it through our own
 * reader: it refuses overlong lines and NUL bytes instead of letting inih
 * cut them, and it sees every section header, even an empty one, with its
 * line number.  inih still splits every line into section/key/value.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define INI_HANDLER_LINENO 1
#include <ini.h>

#include "br_conf.h"
#include "br_conf_int.h"

#define BR_LINE_MAX	1024		/* bytes per config line */
#define BR_FILE_MAX	(1 << 20)	/* bytes per config file */
#define BR_NKEYS_MAX	32

enum br_sect { SECT_NONE, SECT_NODE, SECT_CLUSTER, SECT_SUP, SECT_ACTOR };

/* Parse state: lives for one br_conf_load. */
struct br_ps {
	struct br_conf		*ps_conf;
	const char		*ps_name;	/* file name for messages */
	const char		*ps_buf;	/* what the reader has left */
	size_t			 ps_left;
	int			 ps_line;	/* lines handed to inih */
	enum br_sect		 ps_sect;
	size_t			 ps_idx;	/* current actor or sup */
	int			 ps_seen[BR_NKEYS_MAX];	/* key -> line */
	int			 ps_node_line, ps_cluster_line;
	int			 ps_node_ovr, ps_cluster_ovr;
	int			*ps_aovr;	/* actor -> last override */
	int			*ps_sovr;	/* sup -> last override */
	size_t			 ps_acap, ps_scap;
	const char *const	*ps_ovrs;
	int			 ps_cur_ovr;	/* 1-based, 0 = the file */
	char			*ps_err;
	size_t			 ps_errlen;
	bool			 ps_failed;
};

const char br_conf_default_text[] =
    "; trouped built-in config: a local node with the built-in actors.\n"
    "[node]\n"
    "listen = tcp://127.0.0.1:7447\n"
    "\n"
    "[cluster]\n"
    "discovery = off\n"
    "\n"
    "[supervisor root]\n"
    "strategy = one_for_one\n"
    "intensity = 5\n"
    "period = 10s\n"
    "\n"
    "[actor echo]\n"
    "exec = troupe-echo\n"
    "\n"
    "[actor counter]\n"
    "exec = troupe-counter\n"
    "\n"
    "[actor sink]\n"
    "exec = troupe-sink\n"
    "mailbox = 65536\n"
    "overflow = drop-oldest\n"
    "\n"
    "[actor logger]\n"
    "exec = troupe-logger\n";

static void
rtrim(char *s)
{
	char *end;

	for (end = s + strlen(s); end > s && isspace((unsigned char)end[-1]);
	    end--)
		end[-1] = '\0';
}

static int ps_fail(struct br_ps *, int, int, const char *, ...)
    __attribute__((format(printf, 4, 5)));

/* Records the first error only: line > 0 names the file line, ovr > 0 the
 * override that caused it.  Always returns -1. */
static int
ps_fail(struct br_ps *ps, int line, int ovr, const char *fmt, ...)
{
	char raw[256], msg[256], q[128];
	va_list ap;

	if (ps->ps_failed)
		return -1;
	ps->ps_failed = true;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* msg may echo override or file bytes: keep the error one line. */
	br_confval_quote(raw, msg, sizeof(msg));
	if (ovr > 0)
		snprintf(ps->ps_err, ps->ps_errlen, "override '%s': %s",
		    br_confval_quote(ps->ps_ovrs[ovr - 1], q, sizeof(q)), msg);
	else if (line > 0)
		snprintf(ps->ps_err, ps->ps_errlen, "%s:%d: %s", ps->ps_name,
		    line, msg);
	else
		snprintf(ps->ps_err, ps->ps_errlen, "%s: %s", ps->ps_name,
		    msg);
	return -1;
}

static long
find_sup(const struct br_conf *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->c_nsups; i++)
		if (strcmp(c->c_sups[i].cs_name, name) == 0)
			return (long)i;
	return -1;
}

static long
find_actor(const struct br_conf *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->c_nactors; i++)
		if (strcmp(c->c_actors[i].ca_name, name) == 0)
			return (long)i;
	return -1;
}

/* Grows *arr (elements of size sz) to hold n + 1, capped at max. */
static int
grow(void **arr, size_t *cap, size_t n, size_t sz, size_t max)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	if (n >= max)
		return -1;
	ncap = *cap ? *cap * 2 : 16;
	if (ncap > max)
		ncap = max;
	if ((p = realloc(*arr, ncap * sz)) == NULL)
		return -1;
	*arr = p;
	*cap = ncap;
	return 0;
}

static long
ps_add_sup(struct br_ps *ps, const char *name, int line)
{
	struct br_conf *c = ps->ps_conf;

	if (grow((void **)&c->c_sups, &ps->ps_scap, c->c_nsups,
	    sizeof(*c->c_sups), BR_MAX_SUPS) != 0)
		return ps_fail(ps, line, ps->ps_cur_ovr, "too many "
		    "supervisors (max %d)", BR_MAX_SUPS);
	br_confval_sup_defaults(&c->c_sups[c->c_nsups], name, line);
	return (long)c->c_nsups++;
}

static long
ps_add_actor(struct br_ps *ps, const char *name, int line)
{
	struct br_conf *c = ps->ps_conf;

	if (grow((void **)&c->c_actors, &ps->ps_acap, c->c_nactors,
	    sizeof(*c->c_actors), BR_MAX_ACTORS) != 0)
		return ps_fail(ps, line, ps->ps_cur_ovr, "too many actors "
		    "(max %d)", BR_MAX_ACTORS);
	br_confval_actor_defaults(&c->c_actors[c->c_nactors], name, line);
	c->c_actors[c->c_nactors].ca_exec[0] = '\0';
	return (long)c->c_nactors++;
}

/* Finds or (for an override) adds the actor or supervisor NAME. */
static long
ps_named(struct br_ps *ps, bool actor, const char *name, int line)
{
	const char *what = actor ? "actor" : "supervisor";
	char q[80];
	long i;

	if (name[0] == '\0')
		return ps_fail(ps, line, ps->ps_cur_ovr, "section [%s] needs "
		    "a name: [%s NAME]", what, what);
	if (!br_confval_name_ok(name))
		return ps_fail(ps, line, ps->ps_cur_ovr, "bad %s name '%s' "
		    "(1-63 of A-Z a-z 0-9 _ . -)", what,
		    br_confval_quote(name, q, sizeof(q)));
	i = actor ? find_actor(ps->ps_conf, name) :
	    find_sup(ps->ps_conf, name);
	if (i >= 0 && line > 0)
		return ps_fail(ps, line, 0, "duplicate section [%s %s] "
		    "(first at line %d)", what, name, actor ?
		    ps->ps_conf->c_actors[i].ca_line :
		    ps->ps_conf->c_sups[i].cs_line);
	if (i >= 0)
		return i;
	return actor ? ps_add_actor(ps, name, line) :
	    ps_add_sup(ps, name, line);
}

/* Makes type/name the current section; line 0 means an override. */
static int
ps_section(struct br_ps *ps, const char *type, const char *name, int line)
{
	int *seen = NULL;
	long i;

	memset(ps->ps_seen, 0, sizeof(ps->ps_seen));
	if (strcmp(type, "node") == 0 || strcmp(type, "cluster") == 0) {
		if (name[0] != '\0')
			return ps_fail(ps, line, ps->ps_cur_ovr, "section "
			    "[%s] takes no name", type);
		ps->ps_sect = type[0] == 'n' ? SECT_NODE : SECT_CLUSTER;
		seen = type[0] == 'n' ? &ps->ps_node_line :
		    &ps->ps_cluster_line;
		if (line > 0 && *seen > 0)
			return ps_fail(ps, line, 0, "duplicate section [%s] "
			    "(first at line %d)", type, *seen);
		if (line > 0)
			*seen = line;
		else
			*(type[0] == 'n' ? &ps->ps_node_ovr :
			    &ps->ps_cluster_ovr) = ps->ps_cur_ovr;
		return 0;
	}
	if (strcmp(type, "actor") != 0 && strcmp(type, "supervisor") != 0)
		return ps_fail(ps, line, ps->ps_cur_ovr, "unknown section "
		    "[%s%s%s]", type, name[0] ? " " : "", name);
	if ((i = ps_named(ps, type[0] == 'a', name, line)) < 0)
		return -1;
	ps->ps_sect = type[0] == 'a' ? SECT_ACTOR : SECT_SUP;
	ps->ps_idx = (size_t)i;
	if (line == 0)
		(type[0] == 'a' ? ps->ps_aovr : ps->ps_sovr)[i] =
		    ps->ps_cur_ovr;
	return 0;
}

static const struct br_key *
ps_keys(const struct br_ps *ps, void **obj, char *label, size_t len)
{
	struct br_conf *c = ps->ps_conf;

	switch (ps->ps_sect) {
	case SECT_NODE:
		*obj = c;
		snprintf(label, len, "[node]");
		return br_confval_node_keys;
	case SECT_CLUSTER:
		*obj = c;
		snprintf(label, len, "[cluster]");
		return br_confval_cluster_keys;
	case SECT_SUP:
		*obj = &c->c_sups[ps->ps_idx];
		snprintf(label, len, "[supervisor %s]",
		    c->c_sups[ps->ps_idx].cs_name);
		return br_confval_sup_keys;
	case SECT_ACTOR:
		*obj = &c->c_actors[ps->ps_idx];
		snprintf(label, len, "[actor %s]",
		    c->c_actors[ps->ps_idx].ca_name);
		return br_confval_actor_keys;
	default:
		return NULL;
	}
}

/* Sets key = val in the current section; line 0 means an override. */
static int
ps_key(struct br_ps *ps, const char *key, const char *val, int line)
{
	const struct br_key *tab, *k;
	char label[BR_NAME_MAX + 16], msg[200], q[80];
	const char *why;
	int ovr = ps->ps_cur_ovr;
	void *obj = NULL;

	if ((tab = ps_keys(ps, &obj, label, sizeof(label))) == NULL)
		return ps_fail(ps, line, ovr, "key '%s' outside a section",
		    br_confval_quote(key, q, sizeof(q)));
	for (k = tab; k->k_name != NULL; k++)
		if (strcmp(k->k_name, key) == 0)
			break;
	if (k->k_name == NULL)
		return ps_fail(ps, line, ovr, "unknown key '%s' in %s",
		    br_confval_quote(key, q, sizeof(q)), label);
	if (line > 0 && ps->ps_seen[k - tab] > 0)
		return ps_fail(ps, line, 0, "duplicate key '%s' in %s (first "
		    "at line %d)", key, label, ps->ps_seen[k - tab]);
	if (line > 0)
		ps->ps_seen[k - tab] = line;
	if (tab == br_confval_sup_keys && k->k_off ==
	    offsetof(struct br_conf_sup, cs_parent) &&
	    strcmp(((struct br_conf_sup *)obj)->cs_name, "root") == 0)
		return ps_fail(ps, line, ovr, "supervisor root cannot have a "
		    "parent");
	if ((why = br_confval_why(val)) != NULL)
		return ps_fail(ps, line, ovr, "%s: %s", key, why);
	if (br_confval_set(k, obj, val, msg, sizeof(msg)) != 0)
		return ps_fail(ps, line, ovr, "%s: %s", key, msg);
	return 0;
}

static int
ini_cb(void *user, const char *section, const char *key, const char *val,
    int lineno)
{
	struct br_ps *ps = user;

	/* The section comes from ps_scan: inih cuts names at 50 bytes. */
	(void)section;
	if (ps->ps_failed)
		return 0;
	return ps_key(ps, key, val, lineno) == 0;
}

/*
 * Sees a section header the way inih does ('[' after blanks, up to the
 * first ']'), and refuses what inih would ignore after the ']'.  A header
 * without ']' is left to inih, which reports it as a syntax error.
 */
static void
ps_scan(struct br_ps *ps, const char *line)
{
	char inner[BR_LINE_MAX], *type, *name;
	const char *close, *after;

	if (ps->ps_line == 1 && strncmp(line, "\xEF\xBB\xBF", 3) == 0)
		line += 3;
	line += strspn(line, " \t\r\n\v\f");
	if (*line != '[' || (close = strchr(line, ']')) == NULL)
		return;
	after = close + 1 + strspn(close + 1, " \t\r\n");
	if (*after != '\0' && *after != ';') {
		ps_fail(ps, ps->ps_line, 0, "junk after section header");
		return;
	}
	memcpy(inner, line + 1, (size_t)(close - line - 1));
	inner[close - line - 1] = '\0';
	type = inner + strspn(inner, " \t");
	name = type + strcspn(type, " \t");
	if (*name != '\0')
		*name++ = '\0';
	name += strspn(name, " \t");
	rtrim(name);
	ps_section(ps, type, name, ps->ps_line);
}

/* An fgets for inih over ps_buf that counts lines and stops on error. */
static char *
ps_read(char *str, int num, void *stream)
{
	struct br_ps *ps = stream;
	const char *nl;
	size_t len;

	if (ps->ps_failed || ps->ps_left == 0)
		return NULL;
	nl = memchr(ps->ps_buf, '\n', ps->ps_left);
	len = nl != NULL ? (size_t)(nl - ps->ps_buf) + 1 : ps->ps_left;
	ps->ps_line++;
	if (memchr(ps->ps_buf, '\0', len) != NULL) {
		ps_fail(ps, ps->ps_line, 0, "NUL byte in line");
		return NULL;
	}
	if (num < 2 || len > (size_t)num - 1) {
		ps_fail(ps, ps->ps_line, 0, "line too long (max %d bytes)",
		    num - 2);
		return NULL;
	}
	memcpy(str, ps->ps_buf, len);
	str[len] = '\0';
	ps->ps_buf += len;
	ps->ps_left -= len;
	ps_scan(ps, str);
	return ps->ps_failed ? NULL : str;
}

static int
ps_parse(struct br_ps *ps, const char *text, size_t len)
{
	int rc;

	/* Process-wide inih settings: see the comment at the top. */
	ini_allow_multiline = false;
	ini_allow_bom = true;
	ini_allow_inline_comments = true;
	ini_allow_no_value = false;
	ini_stop_on_first_error = true;
	ini_use_stack = true;
	ini_max_line = BR_LINE_MAX;
	ps->ps_buf = text;
	ps->ps_left = len;
	rc = ini_parse_stream(ps_read, ps, ini_cb, ps);
	if (ps->ps_failed)
		return -1;
	if (rc > 0)
		return ps_fail(ps, rc, 0, "syntax error: expected [section] "
		    "or key = value");
	if (rc < 0)
		return ps_fail(ps, 0, 0, "out of memory");
	return 0;
}

/* The implicit root comes first, as br_conf_print shows it. */
static int
ps_ensure_root(struct br_ps *ps)
{
	struct br_conf *c = ps->ps_conf;

	if (find_sup(c, "root") >= 0)
		return 0;
	if (ps_add_sup(ps, "root", 0) < 0)
		return -1;
	memmove(&c->c_sups[1], &c->c_sups[0],
	    (c->c_nsups - 1) * sizeof(c->c_sups[0]));
	br_confval_sup_defaults(&c->c_sups[0], "root", 0);
	return 0;
}

static int
ps_check_sup(struct br_ps *ps, size_t i)
{
	const struct br_conf *c = ps->ps_conf;
	const struct br_conf_sup *s = &c->c_sups[i];
	long p = (long)i;
	size_t n;

	if (s->cs_backoff_min_ms > s->cs_backoff_max_ms)
		return ps_fail(ps, s->cs_line, ps->ps_sovr[i], "supervisor "
		    "'%s': backoff_min is above backoff_max", s->cs_name);
	if (strcmp(s->cs_name, "root") == 0)
		return 0;
	if (find_sup(c, s->cs_parent) < 0)
		return ps_fail(ps, s->cs_line, ps->ps_sovr[i], "supervisor "
		    "'%s': parent '%s' does not exist", s->cs_name,
		    s->cs_parent);
	/* Every chain of parents must reach root within nsups steps. */
	for (n = 0; n <= c->c_nsups; n++) {
		if (strcmp(c->c_sups[p].cs_name, "root") == 0)
			return 0;
		if ((p = find_sup(c, c->c_sups[p].cs_parent)) < 0)
			return 0;	/* reported at that supervisor */
	}
	return ps_fail(ps, s->cs_line, ps->ps_sovr[i], "supervisor '%s': "
	    "parent cycle (via '%s')", s->cs_name, s->cs_parent);
}

static size_t
count_items(const char *list)
{
	size_t n = list[0] != '\0';

	for (; *list != '\0'; list++)
		n += *list == ',';
	return n;
}

static int
ps_check_actor(struct br_ps *ps, size_t i)
{
	struct br_conf_actor *a = &ps->ps_conf->c_actors[i];

	/* a pool's instances are NAME#k: the name leaves room for "#63" */
	if (a->ca_instances > 0 && strlen(a->ca_name) > BR_NAME_MAX - 5)
		return ps_fail(ps, a->ca_line, ps->ps_aovr[i], "actor '%s': "
		    "a pool's name has at most %d characters", a->ca_name,
		    BR_NAME_MAX - 5);
	if (count_items(a->ca_subscribe) > BR_SUBS_MAX)
		return ps_fail(ps, a->ca_line, ps->ps_aovr[i], "actor '%s': "
		    "at most %d subscriptions", a->ca_name, BR_SUBS_MAX);
	/* a pool instance holds at most its window: a small one keeps a
	 * slow instance from sitting on work the others could do */
	if (a->ca_inflight == 0)
		a->ca_inflight = a->ca_instances > 0 ? BR_POOL_INFLIGHT : 1024;
	if (a->ca_exec[0] == '\0')
		return ps_fail(ps, a->ca_line, ps->ps_aovr[i], "actor '%s': "
		    "exec is missing", a->ca_name);
	if (find_sup(ps->ps_conf, a->ca_supervisor) < 0)
		return ps_fail(ps, a->ca_line, ps->ps_aovr[i], "actor '%s': "
		    "supervisor '%s' does not exist", a->ca_name,
		    a->ca_supervisor);
	return 0;
}

static int
ps_check_cluster(struct br_ps *ps)
{
	const struct br_conf *c = ps->ps_conf;
	int line = ps->ps_cluster_line, ovr = ps->ps_cluster_ovr;

	if (c->c_suspect_after_ms <= c->c_beacon_interval_ms)
		return ps_fail(ps, line, ovr, "[cluster] suspect_after must "
		    "be above beacon_interval");
	if (c->c_dead_after_ms <= c->c_suspect_after_ms)
		return ps_fail(ps, line, ovr, "[cluster] dead_after must be "
		    "above suspect_after");
	if ((strcmp(c->c_discovery, "seeds") == 0 ||
	    strcmp(c->c_discovery, "both") == 0) && c->c_seeds[0] == '\0')
		return ps_fail(ps, line, ovr, "[cluster] discovery = %s needs "
		    "seeds", c->c_discovery);
	return 0;
}

static int
ps_validate(struct br_ps *ps)
{
	size_t i;

	for (i = 0; i < ps->ps_conf->c_nsups; i++)
		if (ps_check_sup(ps, i) != 0)
			return -1;
	for (i = 0; i < ps->ps_conf->c_nactors; i++)
		if (ps_check_actor(ps, i) != 0)
			return -1;
	return ps_check_cluster(ps);
}

/* "node.KEY=V", "cluster.KEY=V", "actor.NAME.KEY=V",
 * "supervisor.NAME.KEY=V"; blanks around KEY and V are dropped.  NAME may
 * hold dots, KEY never does. */
static int
ps_override(struct br_ps *ps, const char *ovr)
{
	char lhs[BR_LINE_MAX], val[BR_LINE_MAX], *eq, *sect, *name, *key;
	bool named;

	if (strlen(ovr) >= sizeof(lhs) || (eq = strchr(ovr, '=')) == NULL)
		return ps_fail(ps, 0, ps->ps_cur_ovr, "expected "
		    "SECTION.KEY=VALUE");
	snprintf(lhs, sizeof(lhs), "%.*s", (int)(eq - ovr), ovr);
	snprintf(val, sizeof(val), "%s", eq + 1 + strspn(eq + 1, " \t"));
	rtrim(lhs);
	rtrim(val);
	sect = lhs + strspn(lhs, " \t");
	if ((key = strchr(sect, '.')) == NULL)
		return ps_fail(ps, 0, ps->ps_cur_ovr, "expected "
		    "SECTION.KEY=VALUE");
	*key++ = '\0';
	name = key + strlen(key);	/* "" */
	named = strcmp(sect, "actor") == 0 || strcmp(sect, "supervisor") == 0;
	if (named) {
		name = key;
		if ((key = strrchr(name, '.')) == NULL)
			return ps_fail(ps, 0, ps->ps_cur_ovr, "expected "
			    "%s.NAME.KEY=VALUE", sect);
		*key++ = '\0';
	}
	if (ps_section(ps, sect, name, 0) != 0)
		return -1;
	return ps_key(ps, key, val, 0);
}

static void
ps_free(struct br_ps *ps)
{
	free(ps->ps_aovr);
	free(ps->ps_sovr);
}

static int
ps_init(struct br_ps *ps, const char *name, const char *const *ovrs,
    char *errbuf, size_t errlen)
{
	memset(ps, 0, sizeof(*ps));
	ps->ps_name = name;
	ps->ps_ovrs = ovrs;
	ps->ps_err = errbuf;
	ps->ps_errlen = errlen;
	ps->ps_aovr = calloc(BR_MAX_ACTORS, sizeof(int));
	ps->ps_sovr = calloc(BR_MAX_SUPS, sizeof(int));
	ps->ps_conf = calloc(1, sizeof(*ps->ps_conf));
	if (ps->ps_aovr == NULL || ps->ps_sovr == NULL ||
	    ps->ps_conf == NULL) {
		ps_fail(ps, 0, 0, "out of memory");
		return -1;
	}
	br_confval_defaults(ps->ps_conf);
	return 0;
}

static int
conf_load_buf(const char *text, size_t len, const char *name,
    const char *const *overrides, size_t noverrides, struct br_conf **out,
    char *errbuf, size_t errlen)
{
	struct br_ps ps;
	size_t i;

	if (ps_init(&ps, name, overrides, errbuf, errlen) != 0)
		goto out_free;
	if (ps_parse(&ps, text, len) != 0 || ps_ensure_root(&ps) != 0 ||
	    ps_validate(&ps) != 0)
		goto out_free;
	for (i = 0; i < noverrides; i++) {
		ps.ps_cur_ovr = (int)i + 1;
		if (ps_override(&ps, overrides[i]) != 0)
			goto out_free;
	}
	ps.ps_cur_ovr = 0;
	if (ps_validate(&ps) != 0)
		goto out_free;
	ps_free(&ps);
	*out = ps.ps_conf;
	return 0;
out_free:
	br_conf_free(ps.ps_conf);
	ps_free(&ps);
	return -1;
}

int
br_conf_load_string(const char *text, const char *name,
    const char *const *overrides, size_t noverrides, struct br_conf **out,
    char *errbuf, size_t errlen)
{
	return conf_load_buf(text, strlen(text), name, overrides, noverrides,
	    out, errbuf, errlen);
}

static int
read_file(const char *path, char **text, size_t *len, char *errbuf,
    size_t errlen)
{
	FILE *fp;
	char *buf;
	size_t n;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(errbuf, errlen, "%s: cannot open: %s", path,
		    strerror(errno));
		return -1;
	}
	if ((buf = malloc(BR_FILE_MAX + 1)) == NULL) {
		snprintf(errbuf, errlen, "%s: out of memory", path);
		goto out_close;
	}
	n = fread(buf, 1, BR_FILE_MAX + 1, fp);
	if (ferror(fp) || n > BR_FILE_MAX) {
		snprintf(errbuf, errlen, "%s: %s", path, ferror(fp) ?
		    strerror(errno) : "file larger than 1 MiB");
		goto out_free;
	}
	fclose(fp);
	*text = buf;
	*len = n;
	return 0;
out_free:
	free(buf);
out_close:
	fclose(fp);
	return -1;
}

int
br_conf_load(const char *path, const char *const *overrides,
    size_t noverrides, struct br_conf **out, char *errbuf, size_t errlen)
{
	char *text;
	size_t len;
	int rc;

	if (path == NULL)
		return br_conf_load_string(br_conf_default_text, "(built-in)",
		    overrides, noverrides, out, errbuf, errlen);
	if (read_file(path, &text, &len, errbuf, errlen) != 0)
		return -1;
	rc = conf_load_buf(text, len, path, overrides, noverrides, out,
	    errbuf, errlen);
	free(text);
	return rc;
}

void
br_conf_free(struct br_conf *conf)
{
	if (conf == NULL)
		return;
	free(conf->c_sups);
	free(conf->c_actors);
	free(conf);
}

const struct br_conf_actor *
br_conf_actor(const struct br_conf *conf, const char *name)
{
	long i = find_actor(conf, name);

	return i < 0 ? NULL : &conf->c_actors[i];
}

const struct br_conf_sup *
br_conf_sup(const struct br_conf *conf, const char *name)
{
	long i = find_sup(conf, name);

	return i < 0 ? NULL : &conf->c_sups[i];
}

bool
br_conf_actor_same(const struct br_conf_actor *a,
    const struct br_conf_actor *b)
{
	return strcmp(a->ca_name, b->ca_name) == 0 &&
	    strcmp(a->ca_exec, b->ca_exec) == 0 &&
	    strcmp(a->ca_supervisor, b->ca_supervisor) == 0 &&
	    a->ca_restart == b->ca_restart && a->ca_mailbox == b->ca_mailbox &&
	    a->ca_mailbox_bytes == b->ca_mailbox_bytes &&
	    a->ca_overflow == b->ca_overflow &&
	    a->ca_inflight == b->ca_inflight &&
	    a->ca_shutdown_ms == b->ca_shutdown_ms &&
	    a->ca_durable == b->ca_durable &&
	    a->ca_instances == b->ca_instances &&
	    strcmp(a->ca_subscribe, b->ca_subscribe) == 0;
}

bool
br_conf_sup_same(const struct br_conf_sup *a, const struct br_conf_sup *b)
{
	return strcmp(a->cs_name, b->cs_name) == 0 &&
	    strcmp(a->cs_parent, b->cs_parent) == 0 &&
	    a->cs_strategy == b->cs_strategy &&
	    a->cs_intensity == b->cs_intensity &&
	    a->cs_period_ms == b->cs_period_ms &&
	    a->cs_backoff_min_ms == b->cs_backoff_min_ms &&
	    a->cs_backoff_max_ms == b->cs_backoff_max_ms;
}
