/* tp_topic — stand-in until the real module lands (issue 17). */
#include <string.h>
#include "tp_topic.h"

static bool
check(const char *s, size_t len, bool wild)
{
	size_t i = 0, w = 0;

	if (len == 0 || len > TP_TOPIC_MAX)
		return false;
	while (i < len) {
		size_t e = i;

		while (e < len && s[e] != '.')
			e++;
		if (e == i || ++w > TP_TOPIC_WORDS)
			return false;
		if (wild && e - i == 1 && (s[i] == '*' || s[i] == '>')) {
			if (s[i] == '>' && e != len)
				return false;
		} else
			for (size_t k = i; k < e; k++)
				if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-", s[k]) == NULL || s[k] == '\0')
					return false;
		if (e == len)
			break;
		if (e + 1 == len)
			return false;
		i = e + 1;
	}
	return true;
}

bool
tp_topic_name_ok(const char *s, size_t len)
{
	return check(s, len, false);
}

bool
tp_topic_pattern_ok(const char *s, size_t len)
{
	return check(s, len, true);
}

bool
tp_topic_match(const char *p, size_t pl, const char *t, size_t tl)
{
	size_t i = 0, j = 0;

	for (;;) {
		size_t pe = i, te = j;

		while (pe < pl && p[pe] != '.')
			pe++;
		while (te < tl && t[te] != '.')
			te++;
		if (pe - i == 1 && p[i] == '>')
			return j < tl;
		if (j >= tl)
			return false;
		if (!(pe - i == 1 && p[i] == '*') && (pe - i != te - j ||
		    memcmp(p + i, t + j, pe - i) != 0))
			return false;
		if (pe >= pl || te >= tl)
			return pe >= pl && te >= tl;
		i = pe + 1;
		j = te + 1;
	}
}
