/*
 * br_conf — the trouped configuration: INI (libinih), fully validated, with
 * an embedded default so that trouped with no file starts a useful node.
 *
 * Sections: [node], [cluster], [supervisor NAME], [actor NAME] (see
 * DESIGN.md and docs/troupe.conf.5).  Unknown sections or keys, bad values,
 * duplicate actors or supervisors are errors naming the file and line.
 */
#ifndef BR_CONF_H
#define BR_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BR_NAME_MAX 64		/* actor, supervisor, node names */
#define BR_SPIN_US_MAX 1000	/* spin_us: at most 1 ms of busy-poll */
#define BR_PATH_MAX 256
#define BR_MAX_ACTORS 4096
#define BR_POOL_MAX 64		/* instances of one pool */
#define BR_POOL_INFLIGHT 64	/* a pool instance's default window */
#define BR_SUBS_TEXT 1024	/* an actor's `subscribe =` list */
#define BR_SUBS_MAX 64		/* subscriptions per actor */
#define BR_MAX_SUPS 256
#define BR_MAX_ARGV 32

enum br_overflow { BR_OVF_BLOCK, BR_OVF_DROP_NEWEST, BR_OVF_DROP_OLDEST,
    BR_OVF_REJECT };
enum br_restart { BR_RS_PERMANENT, BR_RS_TRANSIENT, BR_RS_TEMPORARY };
enum br_strategy { BR_ST_ONE_FOR_ONE, BR_ST_ONE_FOR_ALL, BR_ST_REST_FOR_ONE };
/* node.fsync: when a durable mailbox's record counts as on disk (same
 * order as br_dlog's enum dlog_fsync). */
enum br_fsync { BR_FSYNC_ALWAYS, BR_FSYNC_BATCH, BR_FSYNC_OFF };

struct br_conf_actor {
	char		 ca_name[BR_NAME_MAX];
	char		 ca_exec[BR_PATH_MAX];	/* split on blanks into argv */
	char		 ca_supervisor[BR_NAME_MAX];	/* default "root" */
	enum br_restart	 ca_restart;		/* default permanent */
	uint32_t	 ca_mailbox;		/* messages, default 1024 */
	uint64_t	 ca_mailbox_bytes;	/* default 8 MiB */
	enum br_overflow ca_overflow;		/* default block */
	uint32_t	 ca_inflight;		/* default 256 */
	uint64_t	 ca_shutdown_ms;	/* default 5000 */
	unsigned int	 ca_durable;		/* 0 false (default), 1 true */
	uint32_t	 ca_instances;		/* 0: one actor (default); 1..
						 * BR_POOL_MAX: a pool of them */
	char		 ca_subscribe[BR_SUBS_TEXT];	/* "a.*, b" or "" */
	int		 ca_line;		/* where it was defined, 0 = built in */
};

struct br_conf_sup {
	char		 cs_name[BR_NAME_MAX];
	char		 cs_parent[BR_NAME_MAX];	/* "" for the top */
	enum br_strategy cs_strategy;		/* default one_for_one */
	uint32_t	 cs_intensity;		/* default 5 */
	uint64_t	 cs_period_ms;		/* default 10000 */
	uint64_t	 cs_backoff_min_ms;	/* default 100 */
	uint64_t	 cs_backoff_max_ms;	/* default 5000 */
	int		 cs_line;
};

struct br_conf {
	/* [node] */
	char		 c_node[BR_NAME_MAX];	/* default: short hostname */
	char		 c_listen[BR_PATH_MAX];	/* default tcp://0.0.0.0:7447 */
	char		 c_advertise[BR_PATH_MAX];	/* beacons' endpoint, "" = listen */
	char		 c_run_dir[BR_PATH_MAX];	/* "" = resolved at start */
	char		 c_metrics[BR_PATH_MAX];	/* http://H:P/PATH, "" off */
	uint64_t	 c_drain_timeout_ms;	/* default 10000 */
	uint32_t	 c_send_window;		/* actor send credits, 1024 */
	uint32_t	 c_spin_us;		/* busy-poll before sleeping, 0 */
	uint32_t	 c_max_pending;		/* pending asks+requests, 65536 */
	uint32_t	 c_max_clients;		/* client links at once, 64 */
	uint32_t	 c_client_window;	/* a client's send credits, 1024 */
	uint64_t	 c_ask_ttl_ms;		/* default 60000 */
	uint64_t	 c_max_body;		/* default 1 MiB */
	uint32_t	 c_max_depth;		/* default 16 */
	char		 c_data_dir[BR_PATH_MAX];	/* "" = resolved at start */
	enum br_fsync	 c_fsync;		/* default batch */
	uint64_t	 c_fsync_interval_ms;	/* batch group commit, 10 */
	char		 c_allow_uids[BR_PATH_MAX];	/* "1000, 1001", "" */
	char		 c_allow_group[BR_NAME_MAX];	/* group name, "" */
	/* [cluster] */
	char		 c_discovery[32];	/* multicast|seeds|both|off, off */
	char		 c_group[64];		/* 239.255.42.99:7446 */
	char		 c_interface[64];	/* default 127.0.0.1 */
	char		 c_seeds[BR_PATH_MAX];
	char		 c_cluster_name[BR_NAME_MAX];	/* default troupe */
	char		 c_key_file[BR_PATH_MAX];
	char		 c_encrypt[8];		/* on|off, default on */
	uint64_t	 c_beacon_interval_ms;	/* default 1000 */
	uint64_t	 c_suspect_after_ms;	/* default 3000 */
	uint64_t	 c_dead_after_ms;	/* default 10000 */
	/* [supervisor NAME], [actor NAME] in file order */
	struct br_conf_sup	*c_sups;
	size_t			 c_nsups;
	struct br_conf_actor	*c_actors;
	size_t			 c_nactors;
};

/* The built-in default config text (echo, counter, sink, logger). */
extern const char br_conf_default_text[];

/*
 * Loads path (NULL = the embedded default), then applies the overrides
 * "SECTION.KEY=VALUE" (e.g. "node.name=n2", "actor.echo.mailbox=10") in
 * order, then validates.  On success returns 0 and *out is a new config
 * the caller frees with br_conf_free.  On failure returns -1, *out is
 * untouched, and errbuf holds one line: "FILE:LINE: what is wrong" (for
 * a cross-reference, the line of the section), or "override 'X': what is
 * wrong".  Sets libinih's process-wide options: not thread-safe.
 */
int br_conf_load(const char *path, const char *const *overrides,
    size_t noverrides, struct br_conf **out, char *errbuf, size_t errlen);

/* Loads from a string (for tests and the default); name is used in
 * messages.  Same contract as br_conf_load. */
int br_conf_load_string(const char *text, const char *name,
    const char *const *overrides, size_t noverrides, struct br_conf **out,
    char *errbuf, size_t errlen);

/* Frees a config from br_conf_load (NULL is fine). */
void br_conf_free(struct br_conf *conf);

/* Writes the canonical form of conf (every key, defaults filled in) to fp:
 * what `trouped --check-config --print` shows and golden tests diff. */
void br_conf_print(const struct br_conf *conf, FILE *fp);

/* Finds an actor/supervisor by name, or NULL. */
const struct br_conf_actor *br_conf_actor(const struct br_conf *conf,
    const char *name);
const struct br_conf_sup *br_conf_sup(const struct br_conf *conf,
    const char *name);

/* Parses "250ms", "10s", "2m", "1h", or a bare number of ms; -1 if bad. */
int br_parse_duration(const char *s, uint64_t *ms);
/* Parses "1024", "64KiB", "8MiB", "1GiB" (also K/M/G); -1 if bad. */
int br_parse_size(const char *s, uint64_t *bytes);

/*
 * Splits exec on blanks into argv (NULL-terminated) using buf as storage;
 * argv needs BR_MAX_ARGV slots.  Returns argc (>= 1), or -1 if exec is
 * empty, has more than BR_MAX_ARGV - 1 words or does not fit in buf.
 * The argv strings point into buf, which the caller owns.
 */
int br_conf_split_exec(const char *exec, char *buf, size_t buflen,
    char *argv[BR_MAX_ARGV]);

/* True if two actors (or supervisors) would run the same way: every
 * setting equal, where they were defined ignored.  For SIGHUP reloads. */
bool br_conf_actor_same(const struct br_conf_actor *a,
    const struct br_conf_actor *b);
bool br_conf_sup_same(const struct br_conf_sup *a,
    const struct br_conf_sup *b);

const char *br_overflow_name(enum br_overflow);
const char *br_restart_name(enum br_restart);
const char *br_strategy_name(enum br_strategy);

#endif
