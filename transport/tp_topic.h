/*
 * tp_topic — topic names and subscription patterns, NATS subjects
 * (docs/ARCHITECTURE.md "Topic names").
 *
 * A name is 1..TP_TOPIC_MAX bytes of at most TP_TOPIC_WORDS words joined
 * by '.', each word one or more bytes of [A-Za-z0-9_-].  A pattern is a
 * name whose words may also be exactly "*" (one word) and whose last word
 * may be exactly ">" (one or more words: "a.>" matches "a.b" and "a.b.c",
 * not "a").
 *
 * Every string is counted (no NUL needed, none looked for) and only read:
 * nothing here allocates, keeps a pointer past the call or recurses.
 */
#ifndef TP_TOPIC_H
#define TP_TOPIC_H

#include <stdbool.h>
#include <stddef.h>

#define TP_TOPIC_MAX	255
#define TP_TOPIC_WORDS	32

/* True when s[0..len) is a topic name (no wildcards). */
bool tp_topic_name_ok(const char *s, size_t len);

/* True when s[0..len) is a subscription pattern.  Every name is one. */
bool tp_topic_pattern_ok(const char *s, size_t len);

/*
 * True when topic matches pat.  Both must already be valid (a pattern and
 * a name, checked above): nothing is checked here.  Linear in plen + tlen,
 * no allocation, no recursion.
 */
bool tp_topic_match(const char *pat, size_t plen, const char *topic,
    size_t tlen);

/*
 * Splits a config list such as "orders.*, audit ,x.>": items separated by
 * ',', blanks (space, tab) around an item ignored, each item a pattern.
 * Calls fn(arg, item, itemlen) for each item in order; item points into s
 * and lives as long as s does.  A list that is empty or only blanks has
 * no items.  Returns 0 once every item was given; -1 at the first item
 * that is empty ("a,,b", "a,") or no valid pattern, before fn sees it,
 * with *bad_off (when not NULL) set to the offset in s of its first
 * non-blank byte, or for an empty item where it starts (just after its
 * comma); or the first non-zero value fn returned, which stops the walk.
 */
int tp_topic_list(const char *s, size_t len,
    int (*fn)(void *arg, const char *p, size_t n), void *arg,
    size_t *bad_off);

#endif
