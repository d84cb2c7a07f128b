/*
 * br_resolv — seed host names resolved off the loop thread.  glibc's
 * getaddrinfo_a runs the lookups on its own threads; its SIGEV_THREAD
 * notification only writes to an eventfd that the loop polls (see
 * docs/ARCHITECTURE.md, "Invariant"), and the loop thread reads the
 * results.  The request slots belong to glibc while a batch runs.
 */
#ifndef BR_RESOLV_H
#define BR_RESOLV_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

struct br_resolv;

/* A resolver with its eventfd; NULL when out of memory or fds. */
struct br_resolv *br_resolv_new(void);

/* The fd to poll for "a batch finished" (readable). */
int br_resolv_fd(const struct br_resolv *rs);

/*
 * Starts resolving every "host:port" of seeds (comma or space separated,
 * IPv4).  Returns 0 (started), 1 (a batch is still running: nothing
 * done) or -1 (nothing to resolve, or getaddrinfo_a failed).
 */
int br_resolv_start(struct br_resolv *rs, const char *seeds);

/*
 * After the fd fired: drains it, copies up to max addresses of the
 * finished batch into out, and into src (when not NULL, max entries) the
 * index of the seed each came from (its place in the seeds string, as
 * br_seeds counts them), and frees glibc's results.  Returns the count
 * (0 when every lookup failed), or -1 while the batch is still running.
 */
int br_resolv_collect(struct br_resolv *rs, struct sockaddr_in *out,
    uint32_t *src, uint32_t max);

/* Cancels a running batch and frees rs; when glibc still holds the
 * request slots (a lookup stuck in DNS), rs is left allocated on
 * purpose: its threads would write into it. */
void br_resolv_free(struct br_resolv *rs);

#endif
