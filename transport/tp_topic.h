/*
 * tp_topic — topic names and subscription patterns (issue 17).
 *
 * Stand-in: the real module replaces this file at merge; the API is the
 * same.  A name is dot-separated words of [A-Za-z0-9_-], at most 255
 * bytes and 32 words, no empty word.  A pattern is a name whose words
 * may also be "*" (any one word), and whose last word may be ">" (one
 * or more words).  Both take a counted string (no NUL needed).
 */
#ifndef TP_TOPIC_H
#define TP_TOPIC_H

#include <stdbool.h>
#include <stddef.h>

#define TP_TOPIC_MAX	255	/* bytes */
#define TP_TOPIC_WORDS	32

/* True when s (len bytes) is a topic name a publish may carry. */
bool tp_topic_name_ok(const char *s, size_t len);

/* True when s (len bytes) is a pattern a subscription may hold. */
bool tp_topic_pattern_ok(const char *s, size_t len);

#endif
