/*
 * tp_key — the cluster key file: 32 random bytes, mode 0600, loaded
 * strictly and created atomically.  The key itself is used by tp_sec.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tp_key.h"

static int
key_check_stat(const char *path, const struct stat *st, struct tp_err *err)
{
	if (!S_ISREG(st->st_mode))
		return tp_err_set(err, TP_EINVAL, "key file %s is not a "
		    "regular file", path);
	if ((st->st_mode & 077) != 0)
		return tp_err_set(err, TP_SEC_EPERM, "key file %s has mode "
		    "%04o: group/other may not have any access (chmod 600 %s)",
		    path, (unsigned)(st->st_mode & 07777), path);
	if (st->st_size != TP_SEC_KEYBYTES)
		return tp_err_set(err, st->st_size > TP_SEC_KEYBYTES ?
		    TP_ETOOBIG : TP_ETRUNC, "key file %s is %lld bytes, "
		    "expected %d (make one with `troupe keygen`)", path,
		    (long long)st->st_size, TP_SEC_KEYBYTES);
	return 0;
}

int
tp_sec_key_load(const char *path, uint8_t key[TP_SEC_KEYBYTES],
    struct tp_err *err)
{
	struct stat st;
	ssize_t n;
	int fd, rv;

	if ((rv = tp_sec_init(err)) != 0)
		return rv;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return tp_err_set(err, TP_ESYS, "cannot open key file %s: %s",
		    path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		rv = tp_err_set(err, TP_ESYS, "cannot stat key file %s: %s",
		    path, strerror(errno));
		goto out_close;
	}
	if ((rv = key_check_stat(path, &st, err)) != 0)
		goto out_close;
	n = read(fd, key, TP_SEC_KEYBYTES);
	if (n != TP_SEC_KEYBYTES)
		rv = tp_err_set(err, TP_ESYS, "cannot read key file %s: %s",
		    path, n < 0 ? strerror(errno) : "short read");
out_close:
	close(fd);
	return rv;
}

/* Creates each missing directory above path, 0700: the default key lives
 * under ~/.config, which a fresh account may not have yet. */
static int
make_parents(const char *path, struct tp_err *err)
{
	char dir[4096];
	size_t len = strlen(path);

	if (len >= sizeof(dir))
		return tp_err_set(err, TP_ETOOBIG, "key path too long");
	memcpy(dir, path, len + 1);
	for (char *p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return tp_err_set(err, TP_ESYS, "cannot create %s: %s",
			    dir, strerror(errno));
		*p = '/';
	}
	return 0;
}

static int
write_key_fd(int fd, const char *path, const uint8_t *key,
    struct tp_err *err)
{
	if (fchmod(fd, 0600) != 0 ||
	    write(fd, key, TP_SEC_KEYBYTES) != TP_SEC_KEYBYTES ||
	    fsync(fd) != 0)
		return tp_err_set(err, TP_ESYS, "cannot write key file %s: %s",
		    path, strerror(errno));
	return 0;
}

/* Writes key to a new file at path (O_EXCL: never follows or reuses). */
static int
write_new(const char *path, const uint8_t *key, struct tp_err *err)
{
	int fd, rv;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return tp_err_set(err, errno == EEXIST ? TP_EINVAL : TP_ESYS,
		    "cannot create key file %s: %s%s", path, strerror(errno),
		    errno == EEXIST ? " (use --force to replace it)" : "");
	rv = write_key_fd(fd, path, key, err);
	if (close(fd) != 0 && rv == 0)
		rv = tp_err_set(err, TP_ESYS, "cannot close key file %s: %s",
		    path, strerror(errno));
	if (rv != 0)
		unlink(path);
	return rv;
}

static int
tmp_name(const char *path, char *tmp, size_t len, struct tp_err *err)
{
	int n = snprintf(tmp, len, "%s.tmp.%ld", path, (long)getpid());

	if (n < 0 || (size_t)n >= len)
		return tp_err_set(err, TP_ETOOBIG, "key path too long");
	unlink(tmp);
	return 0;
}

/* Replacing goes through a temporary name and rename(2), so a reader
 * sees the old key or the new one, never half a key. */
static int
replace(const char *path, const uint8_t *key, struct tp_err *err)
{
	char tmp[4096];
	int rv;

	if ((rv = tmp_name(path, tmp, sizeof(tmp), err)) != 0 ||
	    (rv = write_new(tmp, key, err)) != 0)
		return rv;
	if (rename(tmp, path) != 0) {
		rv = tp_err_set(err, TP_ESYS, "cannot rename %s to %s: %s",
		    tmp, path, strerror(errno));
		unlink(tmp);
	}
	return rv;
}

/* A new key appears whole: written under a temporary name, then linked
 * to path, which fails when path exists.  Nodes starting at once (a
 * zero-config cluster's first start) each try; the losers find the
 * winner's whole key, never an empty file being written.  A file system
 * without hard links gets the plain O_EXCL create. */
static int
create_new(const char *path, const uint8_t *key, struct tp_err *err)
{
	char tmp[4096];
	int rv, e;

	if ((rv = tmp_name(path, tmp, sizeof(tmp), err)) != 0 ||
	    (rv = write_new(tmp, key, err)) != 0)
		return rv;
	rv = link(tmp, path);
	e = errno;
	unlink(tmp);
	if (rv == 0)
		return 0;
	if (e == EPERM || e == EOPNOTSUPP)
		return write_new(path, key, err);
	return tp_err_set(err, e == EEXIST ? TP_EINVAL : TP_ESYS,
	    "cannot create key file %s: %s%s", path, strerror(e),
	    e == EEXIST ? " (use --force to replace it)" : "");
}

int
tp_sec_key_create(const char *path, bool force,
    uint8_t key[TP_SEC_KEYBYTES], struct tp_err *err)
{
	uint8_t k[TP_SEC_KEYBYTES];
	int rv;

	if ((rv = tp_sec_init(err)) != 0 ||
	    (rv = make_parents(path, err)) != 0)
		return rv;
	randombytes_buf(k, sizeof(k));
	rv = force ? replace(path, k, err) : create_new(path, k, err);
	if (rv == 0 && key != NULL)
		memcpy(key, k, sizeof(k));
	sodium_memzero(k, sizeof(k));
	return rv;
}

/* Root takes $XDG_CONFIG_HOME only when root owns it (a test's temp dir,
 * a root session that set it): `sudo -E` must not make root write its key
 * into another user's config. */
static bool
root_owns(const char *dir)
{
	struct stat st;

	return dir != NULL && dir[0] == '/' && stat(dir, &st) == 0 &&
	    S_ISDIR(st.st_mode) && st.st_uid == 0;
}

int
tp_sec_key_default_path(char *buf, size_t len)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	int n;

	if (geteuid() == 0 && root_owns(xdg))
		n = snprintf(buf, len, "%s/troupe/cluster.key", xdg);
	else if (geteuid() == 0)
		n = snprintf(buf, len, "/etc/troupe/cluster.key");
	else if (xdg != NULL && xdg[0] == '/')
		n = snprintf(buf, len, "%s/troupe/cluster.key", xdg);
	else if (home != NULL && home[0] == '/')
		n = snprintf(buf, len, "%s/.config/troupe/cluster.key", home);
	else
		return TP_EINVAL;
	return n < 0 || (size_t)n >= len ? TP_ETOOBIG : 0;
}

int
tp_sec_key_setup(const char *conf_path, uint8_t key[TP_SEC_KEYBYTES],
    char *used, size_t len, bool *created, struct tp_err *err)
{
	int rv;

	*created = false;
	if (conf_path != NULL && conf_path[0] != '\0') {
		snprintf(used, len, "%s", conf_path);
		return tp_sec_key_load(conf_path, key, err);
	}
	if (tp_sec_key_default_path(used, len) != 0)
		return tp_err_set(err, TP_EINVAL, "no cluster.key_file and no "
		    "default path (HOME unset?)");
	if (access(used, F_OK) == 0 || errno != ENOENT)
		return tp_sec_key_load(used, key, err);
	rv = tp_sec_key_create(used, false, key, err);
	if (rv == TP_EINVAL)	/* another trouped made it just now */
		return tp_sec_key_load(used, key, err);
	*created = rv == 0;
	return rv;
}
