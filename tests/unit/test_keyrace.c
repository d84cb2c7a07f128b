/*
 * test_keyrace — a new key file appears whole: a reader polling the path
 * while keys are created (as trouped's of a zero-config cluster race on
 * their first start) never sees a file that is not 32 bytes.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tp_key.h"

static char dir[] = "/tmp/test_keyrace_XXXXXX";
static char path[256];
static atomic_bool done;
static atomic_int partial, seen;

static void *
reader(void *arg)
{
	struct stat st;

	while (!atomic_load(&done))
		if (stat(path, &st) == 0) {
			atomic_fetch_add(&seen, 1);
			if (st.st_size != TP_SEC_KEYBYTES)
				atomic_fetch_add(&partial, 1);
		}
	return NULL;
}

Test(key, new_key_is_never_seen_half_written)
{
	struct tp_err err;
	pthread_t t;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/cluster.key", dir);
	cr_assert_eq(pthread_create(&t, NULL, reader, NULL), 0);
	for (int i = 0; i < 300; i++) {
		cr_assert_eq(tp_sec_key_create(path, false, NULL, &err), 0,
		    "%s", err.e_msg);
		cr_assert_neq(tp_sec_key_create(path, false, NULL, &err), 0);
		unlink(path);
	}
	atomic_store(&done, true);
	pthread_join(t, NULL);
	rmdir(dir);
	cr_expect_gt(atomic_load(&seen), 0, "the reader never looked");
	cr_expect_eq(atomic_load(&partial), 0, "%d of %d looks saw a "
	    "partial key", atomic_load(&partial), atomic_load(&seen));
}
