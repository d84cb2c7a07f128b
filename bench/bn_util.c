/*
 * bn_util — clocks, percentiles, exact-size bodies, machine facts.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bn.h"
#include "troupe.h"

uint64_t
bn_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
bn_die(const char *fmt, ...)
{
	va_list ap;

	fputs("bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	bn_proc_abort_all();
	exit(1);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v. */
static uint64_t
rank(const uint64_t *v, size_t n, unsigned pct)
{
	size_t i = (n * pct + 99) / 100;

	return v[i > 0 ? i - 1 : 0];
}

void
bn_pct(uint64_t *v, size_t n, struct bn_pct *out)
{
	double sum = 0;

	memset(out, 0, sizeof(*out));
	if (n == 0)
		return;
	qsort(v, n, sizeof(*v), cmp_u64);
	for (size_t i = 0; i < n; i++)
		sum += (double)v[i];
	out->p_n = n;
	out->p_p50 = rank(v, n, 50);
	out->p_p90 = rank(v, n, 90);
	out->p_p99 = rank(v, n, 99);
	out->p_max = v[n - 1];
	out->p_mean = sum / (double)n;
}

int
bn_pack_bin_exact(msgpack_packer *pk, size_t size)
{
	static const char fill[4096];
	size_t hdr = size < 2 + 256 ? 2 : size < 3 + 65536 ? 3 : 5;
	size_t n;

	if (size < 2)
		return -1;
	n = size - hdr;
	if (msgpack_pack_bin(pk, n) != 0)
		return -1;
	while (n > 0) {
		size_t k = n < sizeof(fill) ? n : sizeof(fill);

		if (msgpack_pack_bin_body(pk, fill, k) != 0)
			return -1;
		n -= k;
	}
	return 0;
}

void
bn_machine(char *buf, size_t len)
{
	char line[512], model[256] = "unknown CPU";
	FILE *f;

	if ((f = fopen("/proc/cpuinfo", "r")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL) {
			char *c = strchr(line, ':');

			if (strncmp(line, "model name", 10) != 0 || c == NULL)
				continue;
			snprintf(model, sizeof(model), "%s", c + 2);
			model[strcspn(model, "\n")] = '\0';
			break;
		}
		fclose(f);
	}
	snprintf(buf, len, "%s, %ld cores", model,
	    sysconf(_SC_NPROCESSORS_ONLN));
}

long
bn_rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

void
bn_pack_key(msgpack_packer *pk, const char *key)
{
	msgpack_pack_str_with_body(pk, key, strlen(key));
}

void
bn_pack_op(msgpack_packer *pk, const char *op, uint32_t npairs)
{
	msgpack_pack_map(pk, 1 + npairs);
	bn_pack_key(pk, "op");
	bn_pack_key(pk, op);
}

uint64_t
bn_get_u64(const msgpack_object *obj, const char *key)
{
	const msgpack_object *v = troupe_obj_map_get(obj, key);

	return v != NULL && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER ?
	    v->via.u64 : 0;
}
