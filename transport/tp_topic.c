/*
 * tp_topic — topic names and patterns (stand-in; see tp_topic.h).
 */
#include <stdbool.h>
#include <stddef.h>

#include "tp_topic.h"

static bool
word_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* One word of s[0, len): plain, or a wildcard when wild allows it. */
static bool
word_ok(const char *s, size_t len, bool wild, bool last)
{
	size_t i;

	if (len == 0)
		return false;
	if (wild && len == 1 && (s[0] == '*' || (s[0] == '>' && last)))
		return true;
	for (i = 0; i < len; i++)
		if (!word_char(s[i]))
			return false;
	return true;
}

static bool
topic_ok(const char *s, size_t len, bool wild)
{
	size_t start = 0, i, words = 0;

	if (s == NULL || len == 0 || len > TP_TOPIC_MAX)
		return false;
	for (i = 0; i <= len; i++) {
		if (i < len && s[i] != '.')
			continue;
		if (++words > TP_TOPIC_WORDS ||
		    !word_ok(s + start, i - start, wild, i == len))
			return false;
		start = i + 1;
	}
	return true;
}

bool
tp_topic_name_ok(const char *s, size_t len)
{
	return topic_ok(s, len, false);
}

bool
tp_topic_pattern_ok(const char *s, size_t len)
{
	return topic_ok(s, len, true);
}
