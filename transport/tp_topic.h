/* tp_topic — stand-in until the real module lands (issue 17). */
#ifndef TP_TOPIC_H
#define TP_TOPIC_H
#include <stdbool.h>
#include <stddef.h>
#define TP_TOPIC_MAX 255
#define TP_TOPIC_WORDS 32
bool tp_topic_name_ok(const char *s, size_t len);
bool tp_topic_pattern_ok(const char *s, size_t len);
bool tp_topic_match(const char *pat, size_t plen, const char *topic,
    size_t tlen);
#endif
