/*
 * fuzz_conf — libFuzzer harness for the trouped config parser (br_conf).
 *
 * The input up to its first NUL byte is the config text; every further
 * NUL-separated piece (at most FUZZ_MAX_OVR) is a "SECTION.KEY=VALUE"
 * override, as trouped -o passes them.  Properties checked (abort on
 * violation): a failed load leaves *out untouched and writes a one-line,
 * NUL-terminated error; a loaded config prints to its canonical form,
 * which loads again and prints the same (the round trip `trouped
 * --check-config --print` relies on); every actor's exec splits.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "br_conf.h"

#define FUZZ_MAX_OVR	4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Returns conf's canonical text in a malloc'd buffer the caller frees. */
static char *
conf_text(const struct br_conf *conf)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp;

	if ((fp = open_memstream(&text, &len)) == NULL)
		abort();
	br_conf_print(conf, fp);
	if (fclose(fp) != 0)
		abort();
	return text;
}

static void
check_err(const char *err, size_t errlen)
{
	if (memchr(err, '\0', errlen) == NULL || err[0] == '\0' ||
	    strchr(err, '\n') != NULL)
		abort();
}

static void
check_conf(const struct br_conf *conf)
{
	char buf[BR_PATH_MAX + BR_MAX_ARGV], err[512];
	char *argv[BR_MAX_ARGV], *t1, *t2;
	struct br_conf *again = NULL;
	size_t i;

	for (i = 0; i < conf->c_nactors; i++)
		if (br_conf_split_exec(conf->c_actors[i].ca_exec, buf,
		    sizeof(buf), argv) < 1)
			abort();
	t1 = conf_text(conf);
	if (br_conf_load_string(t1, "(print)", NULL, 0, &again, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "reload failed: %s\n--\n%s--\n", err, t1);
		abort();
	}
	t2 = conf_text(again);
	if (strcmp(t1, t2) != 0) {
		fprintf(stderr, "print differs:\n%s--\n%s--\n", t1, t2);
		abort();
	}
	free(t2);
	free(t1);
	br_conf_free(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *ovr[FUZZ_MAX_OVR];
	struct br_conf *conf = NULL, *sentinel;
	char err[256], *text, *p, *end;
	size_t n = 0;

	/* A copy with a NUL after it: the parser reads C strings. */
	if ((text = malloc(size + 1)) == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	end = text + size;
	p = text + strlen(text);
	while (p < end && n < FUZZ_MAX_OVR) {
		ovr[n++] = ++p;
		p += strlen(p);
	}
	sentinel = (struct br_conf *)(uintptr_t)1;
	conf = sentinel;
	memset(err, 0x55, sizeof(err));
	if (br_conf_load_string(text, "fuzz.conf", ovr, n, &conf, err,
	    sizeof(err)) != 0) {
		if (conf != sentinel)
			abort();
		check_err(err, sizeof(err));
	} else {
		check_conf(conf);
		br_conf_free(conf);
	}
	free(text);
	return 0;
}
