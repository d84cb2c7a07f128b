/*
 * troupe — the CLI: parses the command line, then hands one command to
 * cli_cmd.  Options may come before or after the command; "--" ends them.
 * An argument that starts with '-' and a digit or '.' is not an option, so
 * `troupe send counter -1` sends the JSON number -1.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <sodium.h>

#include "cli_bench.h"
#include "cli_cluster.h"
#include "cli_cmd.h"
#include "cli_copro.h"
#include "cli_keygen.h"
#include "cli_stream.h"
#include "cli_watch.h"

#define USAGE_LINE \
	"usage: troupe [--broker URL] [--json] [--timeout DUR] COMMAND ..."

struct cmd {
	const char	*cm_name;
	const char	*cm_alias;
	int		 cm_min;	/* arguments after the command */
	int		 cm_max;
	const char	*cm_usage;
	const char	*cm_brief;	/* for the command list */
	const char	*cm_help;
	int		(*cm_run)(const struct cli_opts *, char **);
};

struct args {
	struct cli_opts	 a_opts;
	bool		 a_help;
	int		 a_npos;
	char		**a_pos;	/* command and its arguments */
};

static int run_send(const struct cli_opts *, char **);
static int run_ask(const struct cli_opts *, char **);
static int run_publish(const struct cli_opts *, char **);

static const struct cmd cmds[] = {
	{ "send", NULL, 1, 2, "send ACTOR[@NODE] JSON|- [--confirm] | send -",
	  "enqueue messages; prints their ids",
	  "Enqueues JSON (sent as msgpack) in ACTOR's mailbox and prints\n"
	  "the message id once the broker has queued it ({\"id\":N} with\n"
	  "--json); for a durable mailbox once it is on disk.  A full\n"
	  "mailbox with overflow=block makes it wait up to --timeout.\n"
	  "--confirm: for ACTOR@NODE on another node, wait for that\n"
	  "node's broker to accept it (not only for it to leave on the\n"
	  "link); exits non-zero if it does not.  A NODE that is alive\n"
	  "but not linked yet is waited for up to --timeout.\n"
	  "\n"
	  "send ACTOR -: one JSON document per line of stdin (an empty\n"
	  "line is bad data), streamed on one client link, up to 1024 in\n"
	  "flight, each confirmed by the node holding the mailbox; prints\n"
	  "one id per accepted line, in input order.  The first failed\n"
	  "line stops the reading: what is in flight is waited for and\n"
	  "its ids printed, each failed line is named on stderr\n"
	  "(\"troupe: line K: ...\"), then \"N of M lines accepted (read up\n"
	  "to line M)\"; the exit status is the first failed line's (65\n"
	  "bad JSON, 1 refused, 75 no result within --timeout).  --json:\n"
	  "{\"line\":K,\"id\":N} or {\"line\":K,\"error\":\"...\",\"code\":C} per\n"
	  "line read.\n"
	  "\n"
	  "send -: a JSON-lines co-process.  Each line is {\"to\":ACTOR,\n"
	  "\"body\":JSON, \"id\":ANY (optional, echoed)} and gets one line as\n"
	  "soon as its result is known: {\"line\":K,\"id\":ID,\"ok\":true,\n"
	  "\"msg_id\":N} or {\"line\":K,\"id\":ID,\"ok\":false,\"error\":\"...\",\n"
	  "\"code\":C} (C: 1 unknown actor, 2 rejected, ...); a bad line gets\n"
	  "code 4 and the next one is read.  stdout is flushed whenever it\n"
	  "waits.  Exit 0 when every line was ok, else 1.\n",
	  run_send },
	{ "publish", NULL, 2, 2, "publish TOPIC JSON|-",
	  "publish to a topic's subscribers; prints ids",
	  "Publishes JSON to TOPIC: one message, placed in the mailbox of\n"
	  "every actor subscribed to a pattern that matches TOPIC, and\n"
	  "prints its id once every copy is placed ({\"id\":N} with\n"
	  "--json).\n"
	  "TOPIC is dot-separated words of A-Z a-z 0-9 _ - (at most 255\n"
	  "bytes, 32 words); anything else exits 64.  A subscriber sees\n"
	  "the message as a send whose \"to\" is TOPIC.\n"
	  "\n"
	  "publish TOPIC -: one JSON document per line of stdin, each\n"
	  "published to TOPIC, streamed on one client link exactly as\n"
	  "`send ACTOR -` streams (ids in input order, the first failed\n"
	  "line stops the reading, the same exit statuses and --json).\n",
	  run_publish },
	{ "ask", NULL, 1, 2, "ask ACTOR[@NODE] JSON [--timeout DUR] | ask -",
	  "request/reply; prints the reply",
	  "Sends JSON as a request and prints the actor's reply as compact\n"
	  "JSON (keys in the actor's order), nothing else on stdout.  Waits\n"
	  "--timeout (default 5s), then exits 75; that includes waiting for\n"
	  "a NODE alive but not linked yet, or for the actor lists of\n"
	  "members still linking (a bare ACTOR no node has).\n"
	  "\n"
	  "ask -: the co-process of `send -` for asks: each line\n"
	  "{\"to\":ACTOR, \"body\":JSON, \"id\":ANY} gets {\"line\":K,\"id\":ID,\n"
	  "\"ok\":true,\"reply\":JSON} or an ok:false line, in the order the\n"
	  "answers come, up to 1024 asks in flight on one client link.\n"
	  "Each ask waits --timeout when given, else the broker's ask ttl.\n",
	  run_ask },
	{ "actors", "ls", 0, 0, "actors [--node NODE]",
	  "list actors and mailboxes (alias ls)",
	  "Lists the actors: NAME NODE PID STATE RESTARTS MAILBOX IN OUT\n"
	  "(MAILBOX = queued messages, IN = received, OUT = delivered).\n"
	  "A pool shows as its row \"NAME (pool of N)\" followed by its\n"
	  "instances, indented: \"  NAME#0\", \"  NAME#1\"...\n"
	  "With --json prints the broker's array of actor objects.\n"
	  "Actors of other nodes of the cluster are listed too (NODE);\n"
	  "--node NODE lists only those of NODE.  Alias: ls.\n",
	  cli_cmd_actors },
	{ "nodes", NULL, 0, 0, "nodes",
	  "cluster members, state, address, age",
	  "Lists this node and the members of its cluster: NAME STATE\n"
	  "(alive = routable: member alive, link up, actor list in;\n"
	  "alive/linking while the link or list is coming; suspect,\n"
	  "dead) ENDPOINT INCARNATION LAST-SEEN LINK (self, down,\n"
	  "hello, up) RTT (heartbeat round trip on the link).  With\n"
	  "--json prints the broker's array of objects: state is the\n"
	  "member's state, link the link's, routable true or false.\n",
	  cli_cmd_nodes },
	{ "inspect", NULL, 1, 1, "inspect ACTOR",
	  "everything known about one actor",
	  "Prints everything the broker knows about ACTOR, one\n"
	  "\"key: value\" per line (an object with --json).\n",
	  cli_cmd_inspect },
	{ "stats", NULL, 0, 0, "stats",
	  "broker counters",
	  "Prints the broker's counters, one \"key: value\" per line (an\n"
	  "object with --json).\n",
	  cli_cmd_stats },
	{ "watch", NULL, 0, 64, "watch [ACTOR...] [--node NODE]",
	  "live trace of messages",
	  "Prints one line per message the broker routes, as it happens:\n"
	  "KIND FROM -> TO id=N size=S body=JSON (trimmed to the terminal).\n"
	  "With ACTORs, only messages from or to them.  --node watches\n"
	  "NODE (the local broker's node today).  --json prints one JSON\n"
	  "object per line.  Runs until interrupted; costs the broker\n"
	  "nothing once it stops.\n",
	  cli_cmd_watch },
	{ "spawn", NULL, 1, 1, "spawn NAME --exec PATH [--restart R] "
	  "[--mailbox N] [--overflow P] [--instances N] [--subscribe P,...]",
	  "start a new supervised actor",
	  "Starts actor NAME running PATH (words split on blanks) under\n"
	  "the root supervisor.  --restart permanent|transient|temporary\n"
	  "(default permanent), --mailbox N messages (default 1024),\n"
	  "--overflow block|drop-newest|drop-oldest|reject (default\n"
	  "block), --instances N: a pool of N instances NAME#0.. sharing\n"
	  "one mailbox (1 to 64), --subscribe P1,P2: topic patterns the\n"
	  "actor is subscribed to from its start (words, * for any one\n"
	  "word, a last > for the rest); all checked as the config file\n"
	  "would be.  Prints NAME and its state (the actor\n"
	  "object with --json).  A SIGHUP reload keeps spawned actors.\n",
	  cli_cmd_spawn },
	{ "scale", NULL, 2, 2, "scale NAME N",
	  "resize a worker pool",
	  "Sets pool NAME to N instances (1 to 64; anything else exits\n"
	  "64): the broker starts or stops instances to match.  Prints\n"
	  "NAME and its state (the pool's object with --json).\n",
	  cli_cmd_scale },
	{ "stop", NULL, 1, 1, "stop NAME",
	  "stop an actor for good",
	  "Stops actor NAME (SIGTERM, SIGKILL after its shutdown time)\n"
	  "and does not restart it; its mailbox stays.  Prints NAME and\n"
	  "its state (the actor object with --json).\n",
	  cli_cmd_stop },
	{ "restart", NULL, 1, 1, "restart NAME",
	  "stop and start an actor again",
	  "Restarts actor NAME, or starts it when stopped or failed; a\n"
	  "failed supervisor group gets a fresh restart budget.  Prints\n"
	  "NAME and its state (the actor object with --json).\n",
	  cli_cmd_restart },
	{ "bench", NULL, 2, 9, "bench send|ask ACTOR [--size N] [--count N] "
	  "[--senders N] [--sync]",
	  "throughput and latency, like `nats bench`",
	  "Sends or asks COUNT messages of SIZE bytes (default 10000 of\n"
	  "128 B) to ACTOR from SENDERS threads (default 1), each on a\n"
	  "client link of its own with the link's window in flight; shows\n"
	  "progress on a terminal, then prints msgs/s, MB/s and the\n"
	  "latency p50, p90, p99 and max (one JSON object with --json;\n"
	  "its \"flow\" is \"async\" or \"sync\").  Latency runs from the send\n"
	  "to its confirmation (send: queued in the mailbox) or to the\n"
	  "reply (ask).  --sync: one request at a time per sender on the\n"
	  "control socket, each a round trip.  `bench send sink` and\n"
	  "`bench ask echo` suit the built-in actors.\n",
	  cli_cmd_bench },
	{ "cluster", NULL, 1, 2, "cluster up N [--prefix P] | down "
	  "[--prefix P]",
	  "a local cluster of N zero-config nodes",
	  "up N starts the zero-config nodes P1..PN of this user (P is\n"
	  "\"n\" unless --prefix) that do not run yet, each `trouped --node\n"
	  "PK --daemon` with its pidfile and log in its run dir, waits up\n"
	  "to --timeout until every one lists all of them alive, and\n"
	  "prints the nodes (an array with --json); exit 75 if they do\n"
	  "not.  down stops every node PK that holds its pidfile (SIGTERM:\n"
	  "they drain) and waits for each.  trouped is the one next to\n"
	  "this troupe, else the one on PATH.  Then: troupe --node P1 ...\n",
	  cli_cmd_cluster },
	{ "keygen", NULL, 0, 1, "keygen [FILE] [--force]",
	  "write a new cluster key",
	  "Writes 32 random bytes, mode 0600, to FILE (default: the file\n"
	  "trouped uses when cluster.key_file is not set:\n"
	  "$XDG_CONFIG_HOME/troupe/cluster.key (as root only when root\n"
	  "owns XDG_CONFIG_HOME, else /etc/troupe/cluster.key), else\n"
	  "~/.config/troupe/cluster.key) and prints its path ({\"path\":...}\n"
	  "with --json).  Refuses an existing FILE (exit 1) unless\n"
	  "--force, which replaces it atomically.  Every node of a cluster\n"
	  "needs the same key: copy the file (docs/SECURITY.md).\n",
	  cli_cmd_keygen },
	{ "help", NULL, 0, 1, "help [COMMAND]",
	  "this text, or one command's",
	  "Prints the usage of troupe or of COMMAND.\n", NULL },
};

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static void
usage_top(FILE *f)
{
	size_t i;

	fprintf(f, "%s\n\ncommands:\n", USAGE_LINE);
	for (i = 0; i < NCMDS; i++)
		fprintf(f, "  %-38s %s\n", cmds[i].cm_usage,
		    cmds[i].cm_brief);
	fputs("\noptions:\n"
	    "  --broker URL   the broker's control socket (default\n"
	    "                 ipc://RUN/ctl.sock, RUN = $TROUPE_RUN_DIR,\n"
	    "                 else node --node NAME or $TROUPE_NODE's,\n"
	    "                 else the one node running here, else\n"
	    "                 /run/troupe as root, $XDG_RUNTIME_DIR/troupe,\n"
	    "                 or /tmp/troupe-$UID; see troupe(1))\n"
	    "  --node NAME    talk to node NAME of this machine (also the\n"
	    "                 node filter of actors and watch)\n"
	    "  --json         machine-readable output\n"
	    "  --timeout DUR  how long to wait for the broker or an actor:\n"
	    "                 500ms, 5s, 2m or seconds (default 5s)\n"
	    "  -h, --help     this text; `troupe COMMAND --help` for one "
	    "command\n"
	    "\nexit status: 0 ok, 1 error from the broker, 64 usage, 65 bad "
	    "data,\n69 broker unreachable, 75 timeout, 77 permission denied\n",
	    f);
}

static void
usage_cmd(FILE *f, const struct cmd *c)
{
	fprintf(f, "usage: troupe [OPTIONS] %s\n\n%s", c->cm_usage,
	    c->cm_help);
	fputs("\noptions: --broker URL, --json, --timeout DUR "
	    "(see troupe --help)\n", f);
}

static int
usage_error(const struct cmd *c)
{
	if (c == NULL)
		fprintf(stderr, "%s\n", USAGE_LINE);
	else
		fprintf(stderr, "usage: troupe [OPTIONS] %s\n", c->cm_usage);
	return EX_USAGE;
}

static const struct cmd *
find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < NCMDS; i++)
		if (strcmp(name, cmds[i].cm_name) == 0 ||
		    (cmds[i].cm_alias && strcmp(name, cmds[i].cm_alias) == 0))
			return &cmds[i];
	return NULL;
}

/* "-" (stdin) and negative numbers are arguments, not options. */
static bool
is_option(const char *arg)
{
	return arg[0] == '-' && arg[1] != '\0' &&
	    !isdigit((unsigned char)arg[1]) && arg[1] != '.';
}

/* The valued options of `spawn`; NULL for any other name. */
static const char **
spawn_opt(struct args *a, const char *name)
{
	if (strcmp(name, "--exec") == 0)
		return &a->a_opts.o_exec;
	if (strcmp(name, "--restart") == 0)
		return &a->a_opts.o_restart;
	if (strcmp(name, "--mailbox") == 0)
		return &a->a_opts.o_mailbox;
	if (strcmp(name, "--overflow") == 0)
		return &a->a_opts.o_overflow;
	if (strcmp(name, "--instances") == 0)
		return &a->a_opts.o_instances;
	if (strcmp(name, "--subscribe") == 0)
		return &a->a_opts.o_subscribe;
	if (strcmp(name, "--prefix") == 0)
		return &a->a_opts.o_prefix;
	return NULL;
}

static int
set_valued(struct args *a, const char *name, const char *val)
{
	const char **sp = spawn_opt(a, name);

	if (sp != NULL) {
		*sp = val;
		return 0;
	}
	if (strcmp(name, "--node") == 0) {
		a->a_opts.o_node = val;
		return 0;
	}
	if (strcmp(name, "--broker") == 0) {
		if (*val == '\0') {
			cli_warn("--broker needs a URL");
			return usage_error(NULL);
		}
		a->a_opts.o_broker = val;
		return 0;
	}
	if (cli_parse_duration(val, &a->a_opts.o_timeout) != 0) {
		cli_warn("invalid duration '%s' (use 500ms, 5s, 2m or "
		    "seconds)", val);
		return usage_error(NULL);
	}
	a->a_opts.o_timeout_set = true;
	return 0;
}

/* Parses argv[*i] (and maybe its value, advancing *i). */
static int
parse_opt(struct args *a, int argc, char **argv, int *i)
{
	const char *arg = argv[*i], *eq = strchr(arg, '=');
	size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
	char name[16];

	if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
		a->a_help = true;
		return 0;
	}
	if (strcmp(arg, "--json") == 0) {
		a->a_opts.o_json = true;
		return 0;
	}
	if (strcmp(arg, "--confirm") == 0) {
		a->a_opts.o_confirm = true;
		return 0;
	}
	if (strcmp(arg, "--force") == 0) {
		a->a_opts.o_force = true;
		return 0;
	}
	if (a->a_npos > 0 && strcmp(a->a_pos[0], "bench") == 0 &&
	    cli_bench_opt(arg)) {	/* bench parses its own options */
		a->a_pos[a->a_npos++] = argv[*i];
		return 0;
	}
	snprintf(name, sizeof(name), "%.*s", (int)nlen, arg);
	if (nlen >= sizeof(name) || (strcmp(name, "--broker") != 0 &&
	    strcmp(name, "--timeout") != 0 && strcmp(name, "--node") != 0 &&
	    spawn_opt(a, name) == NULL)) {
		cli_warn("unknown option '%.*s'", (int)nlen, arg);
		return usage_error(NULL);
	}
	if (eq == NULL && *i + 1 >= argc) {
		cli_warn("option '%s' needs a value", name);
		return usage_error(NULL);
	}
	return set_valued(a, name, eq ? eq + 1 : argv[++*i]);
}

static int
parse_args(int argc, char **argv, struct args *a)
{
	bool opts_done = false;
	int i, rv;

	memset(a, 0, sizeof(*a));
	a->a_opts.o_timeout = CLI_TIMEOUT_DEFAULT_MS;
	if ((a->a_pos = calloc(argc + 1, sizeof(*a->a_pos))) == NULL) {
		cli_warn("out of memory");
		return EX_OSERR;
	}
	for (i = 1; i < argc; i++) {
		if (!opts_done && strcmp(argv[i], "--") == 0)
			opts_done = true;
		else if (!opts_done && is_option(argv[i])) {
			if ((rv = parse_opt(a, argc, argv, &i)) != 0)
				return rv;
		} else
			a->a_pos[a->a_npos++] = argv[i];
	}
	return 0;
}

/* `troupe help [COMMAND]` */
static int
run_help(const struct args *a)
{
	const struct cmd *c;

	if (a->a_npos < 2) {
		usage_top(stdout);
		return 0;
	}
	if ((c = find_cmd(a->a_pos[1])) == NULL) {
		cli_warn("unknown command '%s'", a->a_pos[1]);
		return usage_error(NULL);
	}
	usage_cmd(stdout, c);
	return 0;
}

static int
check_nargs(const struct cmd *c, int n, char **args)
{
	if (n < c->cm_min) {
		cli_warn("%s: missing arguments", c->cm_name);
		return usage_error(c);
	}
	if (n > c->cm_max) {
		cli_warn("%s: unexpected argument '%s'", c->cm_name,
		    args[c->cm_max]);
		return usage_error(c);
	}
	return 0;
}

/*
 * send ACTOR JSON and ask ACTOR JSON go on the control socket, send
 * ACTOR - streams on a client link, send - and ask - are the
 * co-process; the one-argument form is `-` only.
 */
static int
run_message(const struct cli_opts *o, char **args, bool ask)
{
	const char *name = ask ? "ask" : "send";

	if (args[1] == NULL && strcmp(args[0], "-") != 0) {
		cli_warn("%s: missing arguments", name);
		return usage_error(find_cmd(name));
	}
	if (args[1] == NULL)
		return cli_copro_run(o, ask);
	if (!ask && strcmp(args[1], "-") == 0)
		return cli_stream_send(o, args[0], false);
	return ask ? cli_cmd_ask(o, args) : cli_cmd_send(o, args);
}

static int
run_send(const struct cli_opts *o, char **args)
{
	return run_message(o, args, false);
}

static int
run_ask(const struct cli_opts *o, char **args)
{
	return run_message(o, args, true);
}

/* publish TOPIC JSON on the control socket, publish TOPIC - streamed as
 * send ACTOR - is; a bad TOPIC is refused before either. */
static int
run_publish(const struct cli_opts *o, char **args)
{
	int rv;

	if ((rv = cli_check_topic(args[0])) != 0)
		return rv;
	if (strcmp(args[1], "-") == 0)
		return cli_stream_send(o, args[0], true);
	return cli_cmd_publish(o, args);
}

static int
dispatch(const struct args *a)
{
	const struct cmd *c;
	int rv;

	if (a->a_npos == 0) {
		if (a->a_help) {
			usage_top(stdout);
			return 0;
		}
		cli_warn("missing command");
		return usage_error(NULL);
	}
	if ((c = find_cmd(a->a_pos[0])) == NULL) {
		cli_warn("unknown command '%s'", a->a_pos[0]);
		return usage_error(NULL);
	}
	if (c->cm_run == NULL) {	/* help */
		if (!a->a_help && (rv = check_nargs(c, a->a_npos - 1,
		    a->a_pos + 1)) != 0)
			return rv;
		return run_help(a);
	}
	if (a->a_help) {
		usage_cmd(stdout, c);
		return 0;
	}
	if ((rv = check_nargs(c, a->a_npos - 1, a->a_pos + 1)) != 0)
		return rv;
	return c->cm_run(&a->a_opts, a->a_pos + 1);
}

/* Output that could not be written is a failure, not a silent success. */
static int
finish_stdout(int rv)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (rv == 0) {
			cli_warn("cannot write output: %s", strerror(errno));
			return EX_IOERR;
		}
	}
	return rv;
}

int
main(int argc, char **argv)
{
	struct args a;
	int rv;

	if (sodium_init() < 0) {
		cli_warn("cannot initialise libsodium");
		return EX_OSERR;
	}
	if ((rv = parse_args(argc, argv, &a)) == 0)
		rv = dispatch(&a);
	free(a.a_pos);
	return finish_stdout(rv);
}
