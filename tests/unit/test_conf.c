/*
 * Unit tests for br_conf: the embedded default, every class of error with
 * its line, overrides, the duration/size parsers and the print round trip.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "br_conf.h"

static char errbuf[512];

static struct br_conf *
load_ok(const char *text, const char *const *ovr, size_t novr)
{
	struct br_conf *c = NULL;
	int rc;

	errbuf[0] = '\0';
	rc = br_conf_load_string(text, "t.conf", ovr, novr, &c, errbuf,
	    sizeof(errbuf));
	cr_assert_eq(rc, 0, "load failed: %s", errbuf);
	cr_assert_not_null(c);
	return c;
}

/* Checks the load fails, leaves *out alone and says exactly want. */
static void
load_bad(const char *text, const char *const *ovr, size_t novr,
    const char *want)
{
	struct br_conf *c = (struct br_conf *)(void *)errbuf;
	int rc;

	errbuf[0] = '\0';
	rc = br_conf_load_string(text, "t.conf", ovr, novr, &c, errbuf,
	    sizeof(errbuf));
	cr_expect_eq(rc, -1, "expected failure for: %s", text);
	cr_expect_eq((void *)c, (void *)errbuf, "*out was touched");
	cr_expect_str_eq(errbuf, want);
}

static char *
print_to_string(const struct br_conf *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	cr_assert_not_null(fp);
	br_conf_print(c, fp);
	fclose(fp);
	return buf;
}

Test(conf, default_parses)
{
	struct br_conf *c;
	const struct br_conf_actor *a;
	const struct br_conf_sup *s;

	cr_assert_eq(br_conf_load(NULL, NULL, 0, &c, errbuf, sizeof(errbuf)),
	    0, "%s", errbuf);
	cr_expect_str_eq(c->c_listen, "tcp://127.0.0.1:7447");
	cr_expect_str_eq(c->c_discovery, "off");
	cr_expect_eq(c->c_nactors, 4);
	cr_expect_eq(c->c_nsups, 1);
	cr_expect_str_eq(c->c_actors[0].ca_name, "echo");
	cr_expect_str_eq(c->c_actors[1].ca_exec, "troupe-counter");
	cr_expect_str_eq(c->c_actors[3].ca_name, "logger");
	a = br_conf_actor(c, "sink");
	cr_assert_not_null(a);
	cr_expect_str_eq(a->ca_exec, "troupe-sink");
	cr_expect_eq(a->ca_mailbox, 65536);
	cr_expect_eq(a->ca_overflow, BR_OVF_DROP_OLDEST);
	s = br_conf_sup(c, "root");
	cr_assert_not_null(s);
	cr_expect_eq(s->cs_strategy, BR_ST_ONE_FOR_ONE);
	cr_expect_eq(s->cs_intensity, 5);
	cr_expect_eq(s->cs_period_ms, 10000);
	cr_expect_str_eq(s->cs_parent, "");
	cr_expect_null(br_conf_actor(c, "nope"));
	br_conf_free(c);
}

Test(conf, defaults_filled_in)
{
	struct br_conf *c = load_ok("[node]\nname = n1\n[actor a]\n"
	    "exec = /bin/cat\n", NULL, 0);
	const struct br_conf_actor *a = &c->c_actors[0];
	char host[256];

	cr_expect_str_eq(c->c_node, "n1");
	cr_expect_str_eq(c->c_listen, "tcp://0.0.0.0:7447");
	cr_expect_str_eq(c->c_run_dir, "");
	cr_expect_eq(c->c_drain_timeout_ms, 10000);
	cr_expect_eq(c->c_send_window, 1024);
	cr_expect_eq(c->c_spin_us, 0);
	cr_expect_eq(c->c_max_pending, 65536);
	cr_expect_eq(c->c_ask_ttl_ms, 60000);
	cr_expect_eq(c->c_max_body, 1 << 20);
	cr_expect_eq(c->c_max_depth, 16);
	cr_expect_str_eq(c->c_group, "239.255.42.99:7446");
	cr_expect_str_eq(c->c_interface, "127.0.0.1");
	cr_expect_eq(c->c_beacon_interval_ms, 1000);
	cr_expect_eq(c->c_suspect_after_ms, 3000);
	cr_expect_eq(c->c_dead_after_ms, 4500);
	cr_expect_str_eq(a->ca_supervisor, "root");
	cr_expect_eq(a->ca_restart, BR_RS_PERMANENT);
	cr_expect_eq(a->ca_mailbox, 4096);
	cr_expect_eq(a->ca_mailbox_bytes, 8 << 20);
	cr_expect_eq(a->ca_overflow, BR_OVF_BLOCK);
	cr_expect_eq(a->ca_inflight, 1024);
	cr_expect_eq(a->ca_shutdown_ms, 5000);
	cr_expect_eq(a->ca_line, 3);
	/* The implicit root comes first. */
	cr_expect_eq(c->c_nsups, 1);
	cr_expect_str_eq(c->c_sups[0].cs_name, "root");
	cr_expect_eq(c->c_sups[0].cs_line, 0);
	br_conf_free(c);

	c = load_ok("[actor a]\nexec = x\n", NULL, 0);
	cr_assert_eq(gethostname(host, sizeof(host)), 0);
	host[strcspn(host, ".")] = '\0';
	cr_expect_str_eq(c->c_node, host);
	br_conf_free(c);
}

Test(conf, every_key_set)
{
	struct br_conf *c = load_ok(
	    "[node]\nname = n-2.x\nlisten = ipc:///tmp/x.sock\n"
	    "run_dir = /run/t\ndrain_timeout = 2m\nsend_window = 8\n"
	    "max_pending = 100\nask_ttl = 1h\nmax_body = 64KiB\n"
	    "max_depth = 4\n"
	    "[cluster]\ndiscovery = both\ngroup = 224.0.0.1:9\n"
	    "interface = 10.1.2.3\nseeds = n2:7447,n3.example:1 , 10.0.0.4:2\n"
	    "key_file = /etc/k\nbeacon_interval = 250ms\n"
	    "suspect_after = 2s\ndead_after = 5s\n"
	    "[supervisor w]\nstrategy = rest_for_one\nintensity = 0\n"
	    "period = 30s\nparent = root\nbackoff_min = 0\n"
	    "backoff_max = 1m\n"
	    "[actor a]\nexec = /bin/x -v  --y\nsupervisor = w\n"
	    "restart = temporary\nmailbox = 1000000\nmailbox_bytes = 1GiB\n"
	    "overflow = reject\ninflight = 4096\nshutdown = 0\n", NULL, 0);
	const struct br_conf_actor *a = &c->c_actors[0];
	const struct br_conf_sup *w = br_conf_sup(c, "w");

	cr_expect_str_eq(c->c_node, "n-2.x");
	cr_expect_str_eq(c->c_listen, "ipc:///tmp/x.sock");
	cr_expect_str_eq(c->c_run_dir, "/run/t");
	cr_expect_eq(c->c_drain_timeout_ms, 120000);
	cr_expect_eq(c->c_send_window, 8);
	cr_expect_eq(c->c_max_pending, 100);
	cr_expect_eq(c->c_ask_ttl_ms, 3600000);
	cr_expect_eq(c->c_max_body, 65536);
	cr_expect_eq(c->c_max_depth, 4);
	cr_expect_str_eq(c->c_discovery, "both");
	cr_expect_str_eq(c->c_group, "224.0.0.1:9");
	cr_expect_str_eq(c->c_interface, "10.1.2.3");
	cr_expect_str_eq(c->c_seeds, "n2:7447, n3.example:1, 10.0.0.4:2");
	cr_expect_str_eq(c->c_key_file, "/etc/k");
	cr_expect_eq(c->c_beacon_interval_ms, 250);
	cr_expect_eq(c->c_suspect_after_ms, 2000);
	cr_expect_eq(c->c_dead_after_ms, 5000);
	cr_assert_not_null(w);
	cr_expect_eq(w->cs_strategy, BR_ST_REST_FOR_ONE);
	cr_expect_eq(w->cs_intensity, 0);
	cr_expect_eq(w->cs_period_ms, 30000);
	cr_expect_eq(w->cs_backoff_min_ms, 0);
	cr_expect_eq(w->cs_backoff_max_ms, 60000);
	cr_expect_str_eq(a->ca_exec, "/bin/x -v  --y");
	cr_expect_str_eq(a->ca_supervisor, "w");
	cr_expect_eq(a->ca_restart, BR_RS_TEMPORARY);
	cr_expect_eq(a->ca_mailbox, 1000000);
	cr_expect_eq(a->ca_mailbox_bytes, 1ULL << 30);
	cr_expect_eq(a->ca_overflow, BR_OVF_REJECT);
	cr_expect_eq(a->ca_inflight, 4096);
	cr_expect_eq(a->ca_shutdown_ms, 0);
	/* Declared supervisors follow the implicit root. */
	cr_expect_str_eq(c->c_sups[0].cs_name, "root");
	br_conf_free(c);
}

Test(conf, declared_root_is_used)
{
	struct br_conf *c = load_ok("[actor a]\nexec = x\n"
	    "[supervisor root]\nstrategy = one_for_all\nintensity = 2\n",
	    NULL, 0);

	cr_expect_eq(c->c_nsups, 1);
	cr_expect_eq(c->c_sups[0].cs_strategy, BR_ST_ONE_FOR_ALL);
	cr_expect_eq(c->c_sups[0].cs_intensity, 2);
	cr_expect_eq(c->c_sups[0].cs_line, 3);
	br_conf_free(c);
}

/* inih's comments as Debian builds it, and no multi-line values. */
Test(conf, comments_and_lines)
{
	struct br_conf *c = load_ok("\xEF\xBB\xBF; top\n# hash\n\n"
	    "[actor a] ; inline after a header\n"
	    "exec = /bin/x;y # not a comment ; a comment\n"
	    "  mailbox = 7\n", NULL, 0);

	cr_expect_str_eq(c->c_actors[0].ca_exec, "/bin/x;y # not a comment");
	cr_expect_eq(c->c_actors[0].ca_mailbox, 7);
	cr_expect_eq(c->c_actors[0].ca_line, 4);
	br_conf_free(c);
	/* An empty section is seen: b has no exec. */
	load_bad("[actor a]\nexec = x\n\n[actor b]\n", NULL, 0,
	    "t.conf:4: actor 'b': exec is missing");
	load_bad("[supervisor s]\n[supervisor s]\n", NULL, 0,
	    "t.conf:2: duplicate section [supervisor s] (first at line 1)");
}

Test(conf, durations)
{
	uint64_t v;

	cr_expect_eq(br_parse_duration("250ms", &v), 0);
	cr_expect_eq(v, 250);
	cr_expect_eq(br_parse_duration("10s", &v), 0);
	cr_expect_eq(v, 10000);
	cr_expect_eq(br_parse_duration("2m", &v), 0);
	cr_expect_eq(v, 120000);
	cr_expect_eq(br_parse_duration("1h", &v), 0);
	cr_expect_eq(v, 3600000);
	cr_expect_eq(br_parse_duration("42", &v), 0);
	cr_expect_eq(v, 42);
	cr_expect_eq(br_parse_duration("0", &v), 0);
	cr_expect_eq(v, 0);
	cr_expect_eq(br_parse_duration("10x", &v), -1);
	cr_expect_eq(br_parse_duration("", &v), -1);
	cr_expect_eq(br_parse_duration("s", &v), -1);
	cr_expect_eq(br_parse_duration("-1s", &v), -1);
	cr_expect_eq(br_parse_duration(" 1s", &v), -1);
	cr_expect_eq(br_parse_duration("1 s", &v), -1);
	cr_expect_eq(br_parse_duration("1.5s", &v), -1);
	cr_expect_eq(br_parse_duration("0x10", &v), -1);
	cr_expect_eq(br_parse_duration("99999999999999999999", &v), -1);
	cr_expect_eq(br_parse_duration("9999999999999999h", &v), -1);
}

Test(conf, sizes)
{
	uint64_t v;

	cr_expect_eq(br_parse_size("1024", &v), 0);
	cr_expect_eq(v, 1024);
	cr_expect_eq(br_parse_size("64KiB", &v), 0);
	cr_expect_eq(v, 65536);
	cr_expect_eq(br_parse_size("64K", &v), 0);
	cr_expect_eq(v, 65536);
	cr_expect_eq(br_parse_size("8MiB", &v), 0);
	cr_expect_eq(v, 8 << 20);
	cr_expect_eq(br_parse_size("2M", &v), 0);
	cr_expect_eq(v, 2 << 20);
	cr_expect_eq(br_parse_size("1GiB", &v), 0);
	cr_expect_eq(v, 1ULL << 30);
	cr_expect_eq(br_parse_size("3G", &v), 0);
	cr_expect_eq(v, 3ULL << 30);
	cr_expect_eq(br_parse_size("1KB", &v), -1);
	cr_expect_eq(br_parse_size("k", &v), -1);
	cr_expect_eq(br_parse_size("-5", &v), -1);
	cr_expect_eq(br_parse_size("1.5M", &v), -1);
	cr_expect_eq(br_parse_size("17179869184G", &v), -1);
}

/* Arrays, not pointers: Criterion re-executes the test binary, so a
 * parameter must not point into the parent's address space. */
struct bad_case {
	char	text[160];
	char	want[200];
};

static struct bad_case bad_cases[] = {
	{ "[node]\nname = a\n[bogus]\nx = 1\n",
	  "t.conf:3: unknown section [bogus]" },
	{ "[node]\n\nfoo = 1\n", "t.conf:3: unknown key 'foo' in [node]" },
	{ "[actor a]\nexec = x\nmailboxx = 1\n",
	  "t.conf:3: unknown key 'mailboxx' in [actor a]" },
	{ "[node]\nsend_window = abc\n", "t.conf:2: send_window: expected an "
	  "integer in 1..65536, got 'abc'" },
	{ "[node]\nsend_window = -1\n", "t.conf:2: send_window: expected an "
	  "integer in 1..65536, got '-1'" },
	{ "[node]\nspin_us = 1001\n", "t.conf:2: spin_us: expected an "
	  "integer in 0..1000, got '1001'" },
	{ "[node]\nspin_us = -5\n", "t.conf:2: spin_us: expected an "
	  "integer in 0..1000, got '-5'" },
	{ "[node]\nmax_depth = 17\n", "t.conf:2: max_depth: expected an "
	  "integer in 1..16, got '17'" },
	{ "[node]\nmax_depth = 0\n", "t.conf:2: max_depth: expected an "
	  "integer in 1..16, got '0'" },
	{ "[actor a]\nexec = x\nmailbox = 1000001\n", "t.conf:3: mailbox: "
	  "expected an integer in 1..1000000, got '1000001'" },
	{ "[actor a]\nexec = x\ninflight = 4097\n", "t.conf:3: inflight: "
	  "expected an integer in 1..4096, got '4097'" },
	{ "[actor a]\nexec = x\nmailbox_bytes = 8XB\n", "t.conf:3: "
	  "mailbox_bytes: expected a size in 1024..1073741824 bytes (e.g. "
	  "4096, 64KiB, 8MiB), got '8XB'" },
	{ "[actor a]\nexec = x\nshutdown = 10x\n", "t.conf:3: shutdown: "
	  "expected a duration in 0ms..3600000ms (e.g. 250ms, 10s, 2m, 1h), "
	  "got '10x'" },
	{ "[actor a]\nexec = x\noverflow = sometimes\n", "t.conf:3: overflow: "
	  "expected block|drop-newest|drop-oldest|reject, got 'sometimes'" },
	{ "[actor a]\nexec = x\nrestart = always\n", "t.conf:3: restart: "
	  "expected permanent|transient|temporary, got 'always'" },
	{ "[supervisor s]\nstrategy = one_for_none\n", "t.conf:2: strategy: "
	  "expected one_for_one|one_for_all|rest_for_one, got "
	  "'one_for_none'" },
	{ "[cluster]\ndiscovery = dns\n", "t.conf:2: discovery: expected "
	  "multicast|seeds|both|off, got 'dns'" },
	{ "[cluster]\ngroup = 10.0.0.1:7446\n", "t.conf:2: group: expected an "
	  "IPv4 multicast address:port (224.0.0.0/4) or auto, got "
	  "'10.0.0.1:7446'" },
	{ "[cluster]\ngroup = 239.1.1.1:70000\n", "t.conf:2: group: expected "
	  "an IPv4 multicast address:port (224.0.0.0/4) or auto, got "
	  "'239.1.1.1:70000'" },
	{ "[cluster]\ninterface = 1.2.3\n", "t.conf:2: interface: expected an "
	  "IPv4 address, got '1.2.3'" },
	{ "[cluster]\nseeds = a:1, b\n", "t.conf:2: seeds: expected "
	  "host:port[, host:port...], got 'a:1, b'" },
	{ "[cluster]\nseeds = a:1,\n", "t.conf:2: seeds: expected "
	  "host:port[, host:port...], got 'a:1,'" },
	{ "\n[cluster]\ndiscovery = seeds\n", "t.conf:2: [cluster] discovery "
	  "= seeds needs seeds" },
	{ "[cluster]\nbeacon_interval = 5s\n", "t.conf:1: [cluster] "
	  "suspect_after must be above beacon_interval" },
	{ "[cluster]\nkey_file = cluster.key\n", "t.conf:2: key_file: "
	  "expected an absolute path, got 'cluster.key'" },
	{ "[node]\nlisten = http://x\n", "t.conf:2: listen: expected a tcp:// "
	  "or ipc:// URL, got 'http://x'" },
	{ "[node]\nname = a b\n", "t.conf:2: name: 'a b' is not a valid name "
	  "(1-63 of A-Z a-z 0-9 _ . -)" },
	{ "[actor a]\nexec = x\n[actor a]\nexec = y\n",
	  "t.conf:3: duplicate section [actor a] (first at line 1)" },
	{ "[node]\n[cluster]\n[node]\n",
	  "t.conf:3: duplicate section [node] (first at line 1)" },
	{ "[actor a]\nexec = x\nmailbox = 1\nmailbox = 2\n",
	  "t.conf:4: duplicate key 'mailbox' in [actor a] (first at line 3)" },
	{ "[actor a b]\nexec = x\n", "t.conf:1: bad actor name 'a b' (1-63 "
	  "of A-Z a-z 0-9 _ . -)" },
	{ "[actor a/b]\nexec = x\n", "t.conf:1: bad actor name 'a/b' (1-63 "
	  "of A-Z a-z 0-9 _ . -)" },
	{ "[actor "
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\n"
	  "exec = x\n", "t.conf:1: bad actor name "
	  "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' "
	  "(1-63 of A-Z a-z 0-9 _ . -)" },
	{ "[supervisor -]\n[supervisor ü]\n", "t.conf:2: bad supervisor name "
	  "'\?\?' (1-63 of A-Z a-z 0-9 _ . -)" },
	{ "[actor]\nexec = x\n", "t.conf:1: section [actor] needs a name: "
	  "[actor NAME]" },
	{ "[node n1]\n", "t.conf:1: section [node] takes no name" },
	{ "[node] name = x\n", "t.conf:1: junk after section header" },
	{ "\n\n[actor a]\nexec = x\nsupervisor = nope\n",
	  "t.conf:3: actor 'a': supervisor 'nope' does not exist" },
	{ "[supervisor s]\nparent = nope\n",
	  "t.conf:1: supervisor 's': parent 'nope' does not exist" },
	{ "[supervisor a]\nparent = b\n[supervisor b]\nparent = a\n",
	  "t.conf:1: supervisor 'a': parent cycle (via 'b')" },
	{ "[supervisor x]\n[supervisor s]\nparent = s\n",
	  "t.conf:2: supervisor 's': parent cycle (via 's')" },
	{ "[supervisor root]\nparent = root\n",
	  "t.conf:2: supervisor root cannot have a parent" },
	{ "[supervisor s]\nbackoff_min = 10s\nbackoff_max = 1s\n",
	  "t.conf:1: supervisor 's': backoff_min is above backoff_max" },
	{ "[actor a]\nexec =\n", "t.conf:2: exec: empty command" },
	{ "[actor a]\nexec = ;\n", "t.conf:2: exec: empty command" },
	{ "[actor a]\nmailbox = 3\n", "t.conf:1: actor 'a': exec is missing" },
	{ "[actor a]\nexec = 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 "
	  "6 7 8 9 0 1 2\n", "t.conf:2: exec: more than 31 words" },
	{ "mailbox = 3\n", "t.conf:1: key 'mailbox' outside a section" },
	{ "[node]\nname\n", "t.conf:2: syntax error: expected [section] or "
	  "key = value" },
	{ "[node\nname = x\n", "t.conf:1: syntax error: expected [section] or "
	  "key = value" },
	/* Indented lines are not continuations (multi-line is off). */
	{ "[actor a]\nexec = x\n  y\n", "t.conf:3: syntax error: expected "
	  "[section] or key = value" },
};

ParameterizedTestParameters(conf, bad)
{
	return cr_make_param_array(struct bad_case, bad_cases,
	    sizeof(bad_cases) / sizeof(bad_cases[0]));
}

ParameterizedTest(struct bad_case *bc, conf, bad)
{
	load_bad(bc->text, NULL, 0, bc->want);
}

Test(conf, too_many_actors)
{
	size_t i, n = BR_MAX_ACTORS + 1, len = n * 32;
	char *text = malloc(len), *p = text;

	cr_assert_not_null(text);
	for (i = 0; i < n; i++)
		p += sprintf(p, "[actor a%zu]\nexec = x\n", i);
	load_bad(text, NULL, 0, "t.conf:8193: too many actors (max 4096)");
	/* Exactly the maximum is fine. */
	*strstr(text, "[actor a4096]") = '\0';
	br_conf_free(load_ok(text, NULL, 0));
	free(text);
}

Test(conf, overrides)
{
	const char *ovr[] = { "node.name=n2", "actor.echo.mailbox = 10",
	    "cluster.discovery=seeds", "cluster.seeds=h1:1,h2:2",
	    "supervisor.root.intensity=3", "actor.my.app.exec=/bin/app -x",
	    "supervisor.w.strategy=one_for_all", "actor.my.app.supervisor=w",
	    "node.ask_ttl=5s" };
	struct br_conf *c = load_ok(br_conf_default_text, ovr, 9);
	const struct br_conf_actor *a;
	const struct br_conf_sup *w;

	cr_expect_str_eq(c->c_node, "n2");
	cr_expect_eq(br_conf_actor(c, "echo")->ca_mailbox, 10);
	cr_expect_str_eq(c->c_discovery, "seeds");
	cr_expect_str_eq(c->c_seeds, "h1:1, h2:2");
	cr_expect_eq(br_conf_sup(c, "root")->cs_intensity, 3);
	cr_expect_eq(c->c_ask_ttl_ms, 5000);
	cr_expect_eq(c->c_nactors, 5);
	a = br_conf_actor(c, "my.app");
	cr_assert_not_null(a);
	cr_expect_str_eq(a->ca_exec, "/bin/app -x");
	cr_expect_str_eq(a->ca_supervisor, "w");
	cr_expect_eq(a->ca_line, 0);
	w = br_conf_sup(c, "w");
	cr_assert_not_null(w);
	cr_expect_eq(w->cs_strategy, BR_ST_ONE_FOR_ALL);
	cr_expect_str_eq(w->cs_parent, "root");
	br_conf_free(c);
}

Test(conf, bad_overrides)
{
	const char *o1[] = { "node.nmae=x" };
	const char *o2[] = { "actor.x.mailbox=5" };
	const char *o3[] = { "actor.x.exec=a", "actor.x.supervisor=zz" };
	const char *o4[] = { "actor.echo.mailbox=0" };
	const char *o5[] = { "bogus" };
	const char *o6[] = { "foo.bar=1" };
	const char *o7[] = { "actor.x=1" };
	const char *o8[] = { "supervisor.root.parent=a" };
	const char *o9[] = { "supervisor.a.parent=b",
	    "supervisor.b.parent=a" };
	const char *o10[] = { "node.name=ok", "cluster.dead_after=1s" };
	const char *o11[] = { "actor.bad/name.exec=x" };
	const char *t = br_conf_default_text;

	load_bad(t, o1, 1, "override 'node.nmae=x': unknown key 'nmae' in "
	    "[node]");
	load_bad(t, o2, 1, "override 'actor.x.mailbox=5': actor 'x': exec is "
	    "missing");
	load_bad(t, o3, 2, "override 'actor.x.supervisor=zz': actor 'x': "
	    "supervisor 'zz' does not exist");
	load_bad(t, o4, 1, "override 'actor.echo.mailbox=0': mailbox: "
	    "expected an integer in 1..1000000, got '0'");
	load_bad(t, o5, 1, "override 'bogus': expected SECTION.KEY=VALUE");
	load_bad(t, o6, 1, "override 'foo.bar=1': unknown section [foo]");
	load_bad(t, o7, 1, "override 'actor.x=1': expected "
	    "actor.NAME.KEY=VALUE");
	load_bad(t, o8, 1, "override 'supervisor.root.parent=a': supervisor "
	    "root cannot have a parent");
	load_bad(t, o9, 2, "override 'supervisor.a.parent=b': supervisor "
	    "'a': parent cycle (via 'b')");
	load_bad(t, o10, 2, "override 'cluster.dead_after=1s': [cluster] "
	    "dead_after must be above suspect_after");
	load_bad(t, o11, 1, "override 'actor.bad/name.exec=x': bad actor "
	    "name 'bad/name' (1-63 of A-Z a-z 0-9 _ . -)");
	/* A file error is reported at its line even with overrides. */
	load_bad("[actor a]\nexec = x\nsupervisor = s\n", o2, 1,
	    "t.conf:1: actor 'a': supervisor 's' does not exist");
}

/* print -> parse -> print gives the same text and the same config. */
static void
round_trip(const char *text)
{
	struct br_conf *c1 = load_ok(text, NULL, 0), *c2;
	char *p1 = print_to_string(c1), *p2;
	size_t i;

	c2 = load_ok(p1, NULL, 0);
	p2 = print_to_string(c2);
	cr_expect_str_eq(p1, p2);
	cr_expect_eq(c1->c_nactors, c2->c_nactors);
	cr_expect_eq(c1->c_nsups, c2->c_nsups);
	for (i = 0; i < c1->c_nactors && i < c2->c_nactors; i++)
		cr_expect(br_conf_actor_same(&c1->c_actors[i],
		    &c2->c_actors[i]), "actor %zu differs", i);
	for (i = 0; i < c1->c_nsups && i < c2->c_nsups; i++)
		cr_expect(br_conf_sup_same(&c1->c_sups[i], &c2->c_sups[i]),
		    "supervisor %zu differs", i);
	cr_expect_str_eq(c1->c_node, c2->c_node);
	cr_expect_str_eq(c1->c_seeds, c2->c_seeds);
	cr_expect_eq(c1->c_max_body, c2->c_max_body);
	cr_expect_eq(c1->c_dead_after_ms, c2->c_dead_after_ms);
	free(p1);
	free(p2);
	br_conf_free(c1);
	br_conf_free(c2);
}

Test(conf, print_round_trip)
{
	struct br_conf *c;
	char *p;

	round_trip(br_conf_default_text);
	round_trip("[node]\nname = n\nrun_dir = /r\n[cluster]\n"
	    "discovery = both\nseeds = a:1,b:2\nkey_file = /k\n"
	    "[supervisor w]\nparent = root\nstrategy = rest_for_one\n"
	    "[supervisor v]\nparent = w\nperiod = 1h\n"
	    "[actor x]\nexec = /bin/x  a b\nsupervisor = v\n"
	    "mailbox_bytes = 64KiB\nrestart = transient\n"
	    "overflow = drop-newest\n");
	c = load_ok("[node]\nname = n\n[actor a]\nexec = x\n", NULL, 0);
	p = print_to_string(c);
	cr_expect(strstr(p, "[supervisor root]\nstrategy = one_for_one\n"
	    "intensity = 5\nperiod = 10000ms\nbackoff_min = 100ms\n"
	    "backoff_max = 5000ms\n") != NULL, "%s", p);
	cr_expect(strstr(p, "\nrun_dir =\n") != NULL, "%s", p);
	cr_expect(strstr(p, "\nmailbox_bytes = 8388608\n") != NULL);
	cr_expect(strstr(p, "\noverflow = block\n") != NULL);
	free(p);
	br_conf_free(c);
}

Test(conf, load_file)
{
	static const char nul[] = "[node]\nname = f\n\n[actor a]\nexec = x\0y\n";
	char path[] = "/tmp/test_conf_XXXXXX", want[600], big[1100];
	struct br_conf *c = NULL;
	FILE *fp;
	int fd;

	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	fp = fdopen(fd, "w");
	fwrite(nul, 1, sizeof(nul) - 1, fp);
	fclose(fp);
	cr_expect_eq(br_conf_load(path, NULL, 0, &c, errbuf,
	    sizeof(errbuf)), -1);
	snprintf(want, sizeof(want), "%s:5: NUL byte in line", path);
	cr_expect_str_eq(errbuf, want);

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	fp = fopen(path, "w");
	fprintf(fp, "[actor a]\nexec = %s\n", big);
	fclose(fp);
	cr_expect_eq(br_conf_load(path, NULL, 0, &c, errbuf,
	    sizeof(errbuf)), -1);
	snprintf(want, sizeof(want), "%s:2: line too long (max 1022 bytes)",
	    path);
	cr_expect_str_eq(errbuf, want);

	fp = fopen(path, "w");
	fprintf(fp, "[actor a]\nexec = %.250s\n", big);
	fclose(fp);
	cr_assert_eq(br_conf_load(path, NULL, 0, &c, errbuf,
	    sizeof(errbuf)), 0, "%s", errbuf);
	cr_expect_eq(strlen(c->c_actors[0].ca_exec), 250);
	br_conf_free(c);

	unlink(path);
	cr_expect_eq(br_conf_load(path, NULL, 0, &c, errbuf,
	    sizeof(errbuf)), -1);
	snprintf(want, sizeof(want), "%s: cannot open: No such file or "
	    "directory", path);
	cr_expect_str_eq(errbuf, want);
}

Test(conf, split_exec)
{
	char buf[BR_PATH_MAX], *argv[BR_MAX_ARGV];

	cr_expect_eq(br_conf_split_exec("/bin/x  -a\tb", buf, sizeof(buf),
	    argv), 3);
	cr_expect_str_eq(argv[0], "/bin/x");
	cr_expect_str_eq(argv[1], "-a");
	cr_expect_str_eq(argv[2], "b");
	cr_expect_null(argv[3]);
	cr_expect_eq(br_conf_split_exec("  ", buf, sizeof(buf), argv), -1);
	cr_expect_eq(br_conf_split_exec("abcdef", buf, 4, argv), -1);
}

Test(conf, same_ignores_lines)
{
	struct br_conf *c1 = load_ok("[actor a]\nexec = x\n", NULL, 0);
	struct br_conf *c2 = load_ok("\n\n[actor a]\nexec = x\n", NULL, 0);
	struct br_conf *c3 = load_ok("[actor a]\nexec = x\ninflight = 2\n",
	    NULL, 0);

	cr_expect(br_conf_actor_same(&c1->c_actors[0], &c2->c_actors[0]));
	cr_expect_not(br_conf_actor_same(&c1->c_actors[0], &c3->c_actors[0]));
	cr_expect_str_eq(br_overflow_name(BR_OVF_DROP_NEWEST), "drop-newest");
	cr_expect_str_eq(br_restart_name(BR_RS_TRANSIENT), "transient");
	cr_expect_str_eq(br_strategy_name(BR_ST_REST_FOR_ONE),
	    "rest_for_one");
	br_conf_free(c1);
	br_conf_free(c2);
	br_conf_free(c3);
}

Test(conf, allow_uids_and_group)
{
	struct br_conf *c = load_ok("[node]\nallow_uids = 1000,1001 ,  7\n"
	    "allow_group = troupe-users\n", NULL, 0);
	char *out;

	cr_expect_str_eq(c->c_allow_uids, "1000, 1001, 7");
	cr_expect_str_eq(c->c_allow_group, "troupe-users");
	out = print_to_string(c);
	cr_expect_not_null(strstr(out, "allow_uids = 1000, 1001, 7\n"), "%s",
	    out);
	free(out);
	br_conf_free(c);
	c = load_ok("[node]\nname = n\n", NULL, 0);
	cr_expect_str_eq(c->c_allow_uids, "");
	cr_expect_str_eq(c->c_allow_group, "");
	br_conf_free(c);
	load_bad("[node]\nallow_uids = 1000,\n", NULL, 0, "t.conf:2: "
	    "allow_uids: expected uid[, uid...] (numbers), got '1000,'");
	load_bad("[node]\nallow_uids = bob\n", NULL, 0, "t.conf:2: "
	    "allow_uids: expected uid[, uid...] (numbers), got 'bob'");
	load_bad("[node]\nallow_uids = 4294967295\n", NULL, 0, "t.conf:2: "
	    "allow_uids: expected uid[, uid...] (numbers), got '4294967295'");
	load_bad("[node]\nallow_group = a b\n", NULL, 0, "t.conf:2: "
	    "allow_group: 'a b' is not a valid name (1-63 of A-Z a-z 0-9 _ . "
	    "-)");
}

/* node.metrics: off by default, http://HOST:PORT/PATH when set. */
Test(conf, metrics_url)
{
	static const char *const good[] = { "http://127.0.0.1:9464/metrics",
	    "http://0.0.0.0:1/", "http://[::1]:9464/m", "http://h:65535/x/y" };
	static const char *const bad[] = { "https://h:1/m", "http://h/m",
	    "http://h:0/m", "http://h:70000/m", "http://h:99", "http://:9/m",
	    "tcp://h:1/m", "http://h:1/m?x", "http://h:x1/m" };
	struct br_conf *c = load_ok("[node]\n", NULL, 0);
	char text[128], want[256];

	cr_expect_str_eq(c->c_metrics, "");
	br_conf_free(c);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), "[node]\nmetrics = %s\n", good[i]);
		c = load_ok(text, NULL, 0);
		cr_expect_str_eq(c->c_metrics, good[i]);
		br_conf_free(c);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "[node]\nmetrics = %s\n", bad[i]);
		snprintf(want, sizeof(want), "t.conf:2: metrics: expected "
		    "http://HOST:PORT/PATH, got '%s'", bad[i]);
		load_bad(text, NULL, 0, want);
	}
}

Test(conf, cluster_security_keys)
{
	struct br_conf *c = load_ok("[node]\n", NULL, 0);

	cr_expect_str_eq(c->c_cluster_name, "troupe");
	cr_expect_str_eq(c->c_encrypt, "on");
	cr_expect_str_eq(c->c_advertise, "");
	br_conf_free(c);
	c = load_ok("[node]\nadvertise = tcp://10.0.0.1:17447\n[cluster]\n"
	    "name = blue\nencrypt = off\n", NULL, 0);
	cr_expect_str_eq(c->c_cluster_name, "blue");
	cr_expect_str_eq(c->c_encrypt, "off");
	cr_expect_str_eq(c->c_advertise, "tcp://10.0.0.1:17447");
	br_conf_free(c);
	load_bad("[cluster]\nencrypt = maybe\n", NULL, 0, "t.conf:2: "
	    "encrypt: expected on|off, got 'maybe'");
	load_bad("[cluster]\nname = a b\n", NULL, 0, "t.conf:2: name: 'a b' "
	    "is not a valid name (1-63 of A-Z a-z 0-9 _ . -)");
	load_bad("[node]\nadvertise = 10.0.0.1:1\n", NULL, 0, "t.conf:2: "
	    "advertise: expected a tcp:// or ipc:// URL, got '10.0.0.1:1'");
}

/* Durable mailboxes: node.data_dir, fsync, fsync_interval; actor.durable. */
Test(conf, durable_keys)
{
	struct br_conf *c = load_ok("[actor a]\nexec = x\n", NULL, 0);

	cr_expect_str_eq(c->c_data_dir, "");
	cr_expect_eq(c->c_fsync, BR_FSYNC_BATCH);
	cr_expect_eq(c->c_fsync_interval_ms, 10);
	cr_expect_eq(c->c_actors[0].ca_durable, 0);
	br_conf_free(c);
	c = load_ok("[node]\ndata_dir = /var/lib/t\nfsync = always\n"
	    "fsync_interval = 2ms\n[actor a]\nexec = x\ndurable = true\n",
	    NULL, 0);
	cr_expect_str_eq(c->c_data_dir, "/var/lib/t");
	cr_expect_eq(c->c_fsync, BR_FSYNC_ALWAYS);
	cr_expect_eq(c->c_fsync_interval_ms, 2);
	cr_expect_eq(c->c_actors[0].ca_durable, 1);
	br_conf_free(c);
	load_bad("[node]\nfsync = sometimes\n", NULL, 0, "t.conf:2: fsync: "
	    "expected always|batch|off, got 'sometimes'");
	load_bad("[node]\ndata_dir = rel/dir\n", NULL, 0, "t.conf:2: "
	    "data_dir: expected an absolute path, got 'rel/dir'");
	load_bad("[node]\nfsync_interval = 0ms\n", NULL, 0, "t.conf:2: "
	    "fsync_interval: expected a duration in 1ms..10000ms (e.g. "
	    "250ms, 10s, 2m, 1h), got '0ms'");
	load_bad("[actor a]\nexec = x\ndurable = yes\n", NULL, 0, "t.conf:3: "
	    "durable: expected false|true, got 'yes'");
}

Test(conf, group_auto_and_listen_port_zero)
{
	const char *ovr[] = { "cluster.group=auto", "node.listen = "
	    "tcp://127.0.0.1:0" };
	struct br_conf *c = load_ok("[cluster]\ndiscovery = multicast\n", ovr,
	    2);
	char *out;

	cr_expect_str_eq(c->c_group, "auto");
	cr_expect_str_eq(c->c_listen, "tcp://127.0.0.1:0");
	out = print_to_string(c);
	cr_expect_not_null(strstr(out, "group = auto\n"), "%s", out);
	free(out);
	br_conf_free(c);
	load_bad("[cluster]\ngroup = Auto\n", NULL, 0, "t.conf:2: group: "
	    "expected an IPv4 multicast address:port (224.0.0.0/4) or auto, "
	    "got 'Auto'");
}
