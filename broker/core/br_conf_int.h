/*
 * br_conf_int — what br_conf.c (the parser) and br_confval.c (the schema,
 * value checks, defaults and printer) share.  Not for other modules: they
 * use br_conf.h.
 */
#ifndef BR_CONF_INT_H
#define BR_CONF_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "br_conf.h"

#define BR_SEC_MS	1000ULL
#define BR_HOUR_MS	(3600 * BR_SEC_MS)

/* The kind of value a key takes: how it is checked, stored and printed.
 * VT_U32..VT_ENUM are numbers printed bare; the rest are strings. */
enum br_vt { VT_NAME, VT_URL, VT_PATH, VT_EXEC, VT_U32, VT_DUR, VT_SIZE,
    VT_ENUM, VT_WORD, VT_GROUP, VT_IPV4, VT_SEEDS, VT_HTTP, VT_UIDS,
    VT_OPTNAME, VT_OPTURL, VT_TOPICS };

/* One key of a section: where its value lives in the section's struct
 * (offset and size) and the bounds or words it accepts. */
struct br_key {
	const char		*k_name;
	enum br_vt		 k_vt;
	size_t			 k_off;
	size_t			 k_size;
	uint64_t		 k_min;
	uint64_t		 k_max;
	const char *const	*k_words;	/* VT_ENUM, VT_WORD */
};

/* The keys of [node] and [cluster] (into struct br_conf), [supervisor]
 * (struct br_conf_sup) and [actor] (struct br_conf_actor), in print
 * order, each ended by a NULL k_name. */
extern const struct br_key br_confval_node_keys[];
extern const struct br_key br_confval_cluster_keys[];
extern const struct br_key br_confval_sup_keys[];
extern const struct br_key br_confval_actor_keys[];

/* Copies s into buf (len bytes, truncated) with non-printable bytes as
 * '?', so an error message stays one line.  Returns buf. */
const char *br_confval_quote(const char *s, char *buf, size_t len);

/* True if s is a valid actor, supervisor or node name: 1..BR_NAME_MAX-1
 * bytes of A-Z a-z 0-9 _ . - */
bool br_confval_name_ok(const char *s);

/* Why val would not read back the same from br_conf_print's output (a
 * ';' that inih would take for a comment, a control byte), or NULL if it
 * would.  The string is static. */
const char *br_confval_why(const char *val);

/*
 * Checks v against key k and stores it in k's field of obj (the struct
 * the key's table describes).  Returns 0, or -1 with obj untouched and
 * msg (len bytes, caller's) saying what was expected.
 */
int br_confval_set(const struct br_key *k, void *obj, const char *v,
    char *msg, size_t len);

/* Fills c with the defaults of [node] and [cluster] (node name from the
 * short hostname); c's actor and supervisor arrays are not touched. */
void br_confval_defaults(struct br_conf *c);

/* Resets *s (or *a) to a supervisor (actor) NAME with every default,
 * defined at line (0 = built in or override).  name is copied. */
void br_confval_sup_defaults(struct br_conf_sup *s, const char *name,
    int line);
void br_confval_actor_defaults(struct br_conf_actor *a, const char *name,
    int line);

#endif
