/*
 * hostile — a misbehaving local peer for tests/proc/test_hostile.py (built
 * into BUILD/tests/bin/, never installed).  Given the URL of a socket a
 * node listens on, it tries every way in that a stranger has:
 *
 *   hostile [-c DIR]... [-n FLOOD] [-o WAYS] [-p PROTOS] [-t SECONDS] URL
 *
 *   ipc://PATH, tcp://HOST:PORT  every nng protocol Debian's nng 1.5.2 has
 *            dials, sends the poison frames where the protocol can send,
 *            and closes; then raw bytes on a plain socket (garbage, an SP
 *            header of every protocol, oversized and truncated frames);
 *            then FLOOD connect/close rounds, raw and with nng.
 *   udp://HOST:PORT  (a multicast group is sent to out of 127.0.0.1)
 *            poison datagrams, oversized ones, then FLOOD garbage ones.
 *
 * -c DIR adds every file of DIR as one more poison frame (the fuzz
 * corpora); -o nng,garbage,frames,unread,flood,nngflood picks some of
 * the stream ways (default all), -p req0,pair1,... some of the
 * protocols of the nng ways.  Everything stops after SECONDS (default 10) however far it
 * got.  Prints one line per way in: `way=NAME tried=N ok=M`, then
 * `total tried=N`.  Exit 0 unless the URL could not be used at all.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/bus0/bus.h>
#include <nng/protocol/pair0/pair.h>
#include <nng/protocol/pair1/pair.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/pubsub0/sub.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/protocol/survey0/respond.h>
#include <nng/protocol/survey0/survey.h>

#define MAX_POISON 128
#define HUGE_FRAME (1u << 20)		/* 1 MiB of junk, under every limit */
#define OVER_FRAME (24u << 20)		/* over every broker's frame limit */

struct poison {
	const char	*p_name;
	uint8_t		*p_buf;
	size_t		 p_len;
};

struct proto {
	const char	*pr_name;
	int		(*pr_open)(nng_socket *);
	uint16_t	 pr_id;		/* the SP protocol number */
	bool		 pr_sends;	/* may send unprompted */
};

static const struct proto protos[] = {
	{ "req0", nng_req0_open, 0x30, true },
	{ "rep0", nng_rep0_open, 0x31, false },
	{ "pair0", nng_pair0_open, 0x10, true },
	{ "pair1", nng_pair1_open, 0x11, true },
	{ "push0", nng_push0_open, 0x50, true },
	{ "pull0", nng_pull0_open, 0x51, false },
	{ "pub0", nng_pub0_open, 0x20, true },
	{ "sub0", nng_sub0_open, 0x21, false },
	{ "bus0", nng_bus0_open, 0x70, true },
	{ "surveyor0", nng_surveyor0_open, 0x62, true },
	{ "respondent0", nng_respondent0_open, 0x63, false },
};
#define NPROTOS (sizeof(protos) / sizeof(protos[0]))

static const char *only;	/* -o: a comma list of ways, NULL for all */
static const char *only_protos;	/* -p: a comma list of protocols */
static struct poison poisons[MAX_POISON];
static size_t npoisons;
static double deadline;
static unsigned long total_tried;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool
out_of_time(void)
{
	return now_s() >= deadline;
}

static void
report(const char *way, unsigned long tried, unsigned long ok)
{
	total_tried += tried;
	printf("way=%s tried=%lu ok=%lu\n", way, tried, ok);
	fflush(stdout);
}

static void
add_poison(const char *name, const void *buf, size_t len)
{
	uint8_t *copy;

	if (npoisons == MAX_POISON || (copy = malloc(len ? len : 1)) == NULL)
		return;
	memcpy(copy, buf, len);
	poisons[npoisons++] = (struct poison){ name, copy, len };
}

/* A well-formed envelope [1, kind, id, "x", "echo", 0, 0, nil] with the
 * version and kind given: the base of the truncations and wrong versions. */
static size_t
envelope(uint8_t *b, uint8_t version, uint8_t kind)
{
	static const uint8_t tail[] = { 0x01, 0xa1, 'x', 0xa4, 'e', 'c', 'h',
	    'o', 0x00, 0x00, 0xc0 };

	b[0] = 0x98;
	b[1] = version;
	b[2] = kind;
	memcpy(b + 3, tail, sizeof(tail));
	return 3 + sizeof(tail);
}

/* The poison inputs tests/unit/test_env.c and the fuzz corpora name. */
static void
builtin_poisons(void)
{
	static const uint8_t dd_ff[] = { 0xdd, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t df_ff[] = { 0xdf, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t dd_4m[] = { 0xdd, 0x00, 0x40, 0x00, 0x00 };
	static const uint8_t bin32[] = { 0xc6, 0xff, 0xff, 0xff, 0xf0 };
	static const uint8_t nested_batch[] = { 0x93, 0x01, 0x08, 0x91, 0x93,
	    0x01, 0x08, 0x90 };
	uint8_t b[64], *big;
	size_t n;

	add_poison("dd_ffffffff", dd_ff, sizeof(dd_ff));
	add_poison("df_ffffffff", df_ff, sizeof(df_ff));
	add_poison("dd_00400000", dd_4m, sizeof(dd_4m));
	add_poison("bin32_huge", bin32, sizeof(bin32));
	memset(b, 0xdf, 13);
	add_poison("df_x13", b, 13);
	memset(b, 0x91, 40);
	b[40] = 0xc0;
	add_poison("nest40", b, 41);
	add_poison("nested_batch", nested_batch, sizeof(nested_batch));
	n = envelope(b, 2, 1);
	add_poison("version2", b, n);
	n = envelope(b, 0, 1);
	add_poison("version0", b, n);
	n = envelope(b, 1, 0x7f);
	add_poison("kind127", b, n);
	for (size_t cut = 1; cut < n; cut += 3)
		add_poison("truncated", b, cut);
	add_poison("empty", b, 0);
	if ((big = malloc(HUGE_FRAME)) != NULL) {
		memset(big, 0xdd, HUGE_FRAME);
		add_poison("huge_dd", big, HUGE_FRAME);
		free(big);
	}
}

static void
corpus_poisons(const char *dir)
{
	char path[4096], *buf;
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "hostile: %s: %s\n", dir, strerror(errno));
		return;
	}
	while ((de = readdir(d)) != NULL) {
		FILE *f;
		long len;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((f = fopen(path, "rb")) == NULL)
			continue;
		fseek(f, 0, SEEK_END);
		len = ftell(f);
		rewind(f);
		if (len >= 0 && len < (1 << 20) &&
		    (buf = malloc((size_t)len + 1)) != NULL) {
			if (fread(buf, 1, (size_t)len, f) == (size_t)len)
				add_poison(strdup(de->d_name), buf,
				    (size_t)len);
			free(buf);
		}
		fclose(f);
	}
	closedir(d);
}

static bool
in_list(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p != NULL; p = strchr(p, ',')) {
		p += *p == ',';
		if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return true;
	}
	return list == NULL;
}

static bool
way_on(const char *way)
{
	return in_list(only, way);
}

static bool
proto_on(const struct proto *pr)
{
	return in_list(only_protos, pr->pr_name);
}

/* ---- nng: every protocol ---- */

/* Sends every poison (a raw req0 gets a request id header so that a rep
 * would take it) without ever reading an answer. */
static unsigned long
send_poisons(nng_socket s)
{
	unsigned long sent = 0;

	for (size_t i = 0; i < npoisons && !out_of_time(); i++) {
		nng_msg *m;

		if (nng_msg_alloc(&m, 0) != 0)
			break;
		if (nng_msg_append(m, poisons[i].p_buf, poisons[i].p_len) ||
		    nng_sendmsg(s, m, 0) != 0)
			nng_msg_free(m);
		else
			sent++;
	}
	return sent;
}

static int
nng_try(const struct proto *pr, const char *url, unsigned long *frames)
{
	nng_socket s;
	int rv;

	if ((rv = pr->pr_open(&s)) != 0)
		return rv;
	nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, 50);
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 50);
	nng_socket_set_ms(s, NNG_OPT_RECONNMINT, 1000);
	if ((rv = nng_dial(s, url, NULL, 0)) == 0 && pr->pr_sends)
		*frames += send_poisons(s);
	if (rv == 0)
		usleep(20000);	/* let the other side see the pipe */
	nng_close(s);
	return rv;
}

static void
nng_protocols(const char *url)
{
	char way[64];

	for (size_t i = 0; i < NPROTOS && !out_of_time(); i++) {
		unsigned long frames = 0;
		int rv;

		if (!proto_on(&protos[i]))
			continue;
		rv = nng_try(&protos[i], url, &frames);
		snprintf(way, sizeof(way), "nng_%s", protos[i].pr_name);
		report(way, 1, rv == 0);
		if (frames > 0)
			printf("way=%s frames=%lu\n", way, frames);
	}
}

/* Requests from a raw req0 that never reads an answer: the other side's
 * replies must be dropped for this pipe, not buffered for ever. */
static void
nng_unread_requests(const char *url, unsigned long n)
{
	static const uint8_t stats[] = { 0x98, 0x01, 0x07, 0x01, 0xa1, 'x',
	    0xa0, 0x00, 0x00, 0x81, 0xa2, 'o', 'p', 0xa5, 's', 't', 'a', 't',
	    's' };
	unsigned long sent = 0;
	nng_socket s;

	if (nng_req0_open_raw(&s) != 0)
		return;
	nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, 50);
	nng_socket_set_int(s, NNG_OPT_RECVBUF, 1);
	if (nng_dial(s, url, NULL, 0) == 0)
		for (uint32_t id = 1; id <= n && !out_of_time(); id++) {
			nng_msg *m;
			uint32_t h = htonl(id | 0x80000000u);

			if (nng_msg_alloc(&m, 0) != 0)
				break;
			if (nng_msg_header_append(m, &h, 4) != 0 ||
			    nng_msg_append(m, stats, sizeof(stats)) != 0 ||
			    nng_sendmsg(s, m, 0) != 0)
				nng_msg_free(m);
			else
				sent++;
		}
	nng_close(s);
	report("nng_unread_requests", n, sent);
}

/* Opens and drops nng connections of one protocol, each dial waited for. */
static void
nng_flood(const struct proto *pr, const char *url, unsigned long n)
{
	unsigned long tried = 0, ok = 0;
	char way[64];

	for (; tried < n && !out_of_time(); tried++) {
		nng_socket s;

		if (pr->pr_open(&s) != 0)
			break;
		nng_socket_set_ms(s, NNG_OPT_RECONNMINT, 1000);
		ok += nng_dial(s, url, NULL, 0) == 0;
		nng_close(s);
	}
	snprintf(way, sizeof(way), "flood_nng_%s", pr->pr_name);
	report(way, tried, ok);
}

/* ---- raw bytes on a plain stream socket ---- */

struct target {
	bool			 t_ipc;
	struct sockaddr_storage	 t_addr;
	socklen_t		 t_alen;
};

static int
parse_stream(const char *url, struct target *t)
{
	memset(t, 0, sizeof(*t));
	if (strncmp(url, "ipc://", 6) == 0) {
		struct sockaddr_un *un = (struct sockaddr_un *)&t->t_addr;

		if (strlen(url + 6) >= sizeof(un->sun_path))
			return -1;
		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, url + 6);
		t->t_ipc = true;
		t->t_alen = sizeof(*un);
		return 0;
	}
	if (strncmp(url, "tcp://", 6) == 0) {
		struct sockaddr_in *in = (struct sockaddr_in *)&t->t_addr;
		char host[256];
		const char *colon = strrchr(url + 6, ':');

		if (colon == NULL || (size_t)(colon - url - 6) >= sizeof(host))
			return -1;
		snprintf(host, sizeof(host), "%.*s", (int)(colon - url - 6),
		    url + 6);
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)atoi(colon + 1));
		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			return -1;
		t->t_alen = sizeof(*in);
		return 0;
	}
	return -1;
}

static int
raw_connect(const struct target *t)
{
	int fd = socket(t->t_addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval tv = { 0, 200000 };

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (const struct sockaddr *)&t->t_addr, t->t_alen) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Writes what it can (the peer may close on us: EPIPE is expected). */
static bool
raw_write(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* nng's SP header: 0 'S' 'P' 0, the protocol number, 0 0. */
static void
sp_header(uint8_t h[8], uint16_t proto)
{
	static const uint8_t magic[4] = { 0, 'S', 'P', 0 };

	memcpy(h, magic, 4);
	h[4] = (uint8_t)(proto >> 8);
	h[5] = (uint8_t)proto;
	h[6] = h[7] = 0;
}

/* One frame as nng's stream transports carry it: ipc puts a message type
 * byte (1) before the 8-byte big-endian length, tcp does not; declared
 * is the length claimed, len what follows. */
static size_t
frame_head(const struct target *t, uint8_t *h, uint64_t declared)
{
	size_t n = 0;

	if (t->t_ipc)
		h[n++] = 1;
	for (int i = 7; i >= 0; i--)
		h[n++] = (uint8_t)(declared >> (i * 8));
	return n;
}

/* Connects, writes a then b, closes; counts the connects that worked. */
static bool
raw_once(const struct target *t, const void *a, size_t alen, const void *b,
    size_t blen)
{
	int fd = raw_connect(t);

	if (fd < 0)
		return false;
	if (raw_write(fd, a, alen) && blen > 0)
		raw_write(fd, b, blen);
	close(fd);
	return true;
}

static void
raw_garbage(const struct target *t)
{
	static const char http[] = "GET / HTTP/1.0\r\nHost: x\r\n\r\n";
	uint8_t junk[4096], h[8];
	unsigned long tried = 0, ok = 0;

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 131 + 7);
	ok += raw_once(t, http, sizeof(http) - 1, NULL, 0), tried++;
	ok += raw_once(t, junk, sizeof(junk), NULL, 0), tried++;
	sp_header(h, 0x30);
	h[1] = 'X';			/* bad magic */
	ok += raw_once(t, h, 8, NULL, 0), tried++;
	ok += raw_once(t, h, 3, NULL, 0), tried++;	/* truncated header */
	for (size_t i = 0; i < NPROTOS; i++) {	/* each header, then junk */
		sp_header(h, protos[i].pr_id);
		ok += raw_once(t, h, 8, junk, 64), tried++;
	}
	report("raw_garbage", tried, ok);
}

/* Well-negotiated streams of every protocol that then lie about sizes:
 * a declared length far over any limit, a huge one really sent, frames
 * cut short, and every poison as a proper frame. */
static void
raw_frames(const struct target *t)
{
	unsigned long tried = 0, ok = 0;
	uint8_t h[8], fh[32] = { 0 }, *over;	/* head + the 10 bytes of a cut frame */
	size_t n;

	for (size_t i = 0; i < NPROTOS && !out_of_time(); i++) {
		int fd;

		sp_header(h, protos[i].pr_id);
		n = frame_head(t, fh, UINT64_MAX);
		ok += raw_once(t, h, 8, fh, n), tried++;
		n = frame_head(t, fh, 100);
		ok += raw_once(t, h, 8, fh, n + 10), tried++;	/* cut */
		if ((fd = raw_connect(t)) < 0)
			continue;
		tried++, ok++;
		raw_write(fd, h, 8);
		for (size_t k = 0; k < npoisons; k++) {
			n = frame_head(t, fh, poisons[k].p_len);
			if (!raw_write(fd, fh, n) || !raw_write(fd,
			    poisons[k].p_buf, poisons[k].p_len))
				break;
		}
		close(fd);
	}
	if ((over = calloc(1, OVER_FRAME)) != NULL) {
		sp_header(h, 0x30);
		n = frame_head(t, fh, OVER_FRAME);
		memcpy(over, fh, n);
		ok += raw_once(t, h, 8, over, OVER_FRAME), tried++;
		free(over);
	}
	report("raw_frames", tried, ok);
}

static void
raw_flood(const struct target *t, unsigned long n)
{
	unsigned long tried = 0, ok = 0;
	uint8_t h[8];

	for (; tried < n && !out_of_time(); tried++) {
		int fd = raw_connect(t);

		if (fd < 0)
			continue;
		ok++;
		if (tried % 2) {	/* half of them say hello first */
			sp_header(h, protos[tried / 2 % NPROTOS].pr_id);
			raw_write(fd, h, 8);
		}
		close(fd);
	}
	report("flood_raw", tried, ok);
}

/* ---- UDP (the beacon port) ---- */

static int
udp_open(const char *url, struct sockaddr_in *to)
{
	struct in_addr lo = { htonl(INADDR_LOOPBACK) };
	const char *colon = strrchr(url + 6, ':');
	char host[64];
	int fd;

	if (colon == NULL || (size_t)(colon - url - 6) >= sizeof(host))
		return -1;
	snprintf(host, sizeof(host), "%.*s", (int)(colon - url - 6), url + 6);
	memset(to, 0, sizeof(*to));
	to->sin_family = AF_INET;
	to->sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &to->sin_addr) != 1 ||
	    (fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	/* multicast stays on 127.0.0.1, never the outward interface */
	setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &lo, sizeof(lo));
	return fd;
}

static void
udp_all(const char *url, unsigned long flood)
{
	static uint8_t big[8192];
	unsigned long tried = 0, ok = 0;
	struct sockaddr_in to;
	int fd;

	if ((fd = udp_open(url, &to)) < 0) {
		fprintf(stderr, "hostile: bad udp URL %s\n", url);
		exit(64);
	}
	for (size_t i = 0; i < npoisons; i++, tried++)
		ok += sendto(fd, poisons[i].p_buf, poisons[i].p_len > 60000 ?
		    60000 : poisons[i].p_len, 0, (struct sockaddr *)&to,
		    sizeof(to)) >= 0;
	memset(big, 0x93, sizeof(big));
	ok += sendto(fd, big, sizeof(big), 0, (struct sockaddr *)&to,
	    sizeof(to)) >= 0, tried++;
	report("udp_poison", tried, ok);
	tried = ok = 0;
	for (; tried < flood && !out_of_time(); tried++) {
		big[0] = (uint8_t)tried;
		ok += sendto(fd, big, 64 + tried % 1300, 0,
		    (struct sockaddr *)&to, sizeof(to)) >= 0;
	}
	report("flood_udp", tried, ok);
	close(fd);
}


static void
stream_all(const char *url, unsigned long flood)
{
	struct target t;

	if (parse_stream(url, &t) != 0) {
		fprintf(stderr, "hostile: cannot use URL %s\n", url);
		exit(64);
	}
	if (way_on("nng"))
		nng_protocols(url);
	if (way_on("garbage"))
		raw_garbage(&t);
	if (way_on("frames"))
		raw_frames(&t);
	if (way_on("unread"))
		nng_unread_requests(url, 2000);
	if (way_on("flood"))
		raw_flood(&t, flood);
	for (size_t i = 0; i < NPROTOS && way_on("nngflood") &&
	    !out_of_time(); i++)
		if (proto_on(&protos[i]))
			nng_flood(&protos[i], url, flood / 20);
}

int
main(int argc, char **argv)
{
	unsigned long flood = 500;
	double seconds = 10;
	int ch;

	signal(SIGPIPE, SIG_IGN);
	builtin_poisons();
	while ((ch = getopt(argc, argv, "c:n:o:p:t:")) != -1) {
		switch (ch) {
		case 'c': corpus_poisons(optarg); break;
		case 'n': flood = strtoul(optarg, NULL, 10); break;
		case 'o': only = optarg; break;
		case 'p': only_protos = optarg; break;
		case 't': seconds = strtod(optarg, NULL); break;
		default:
			fprintf(stderr, "usage: hostile [-c DIR] [-n FLOOD] "
			    "[-o WAYS] [-p PROTOS] [-t SECONDS] URL\n");
			return 64;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: hostile [-c DIR] [-n FLOOD] "
		    "[-o WAYS] [-p PROTOS] [-t SECONDS] URL\n");
		return 64;
	}
	deadline = now_s() + seconds;
	printf("url=%s poisons=%zu\n", argv[optind], npoisons);
	if (strncmp(argv[optind], "udp://", 6) == 0)
		udp_all(argv[optind], flood);
	else
		stream_all(argv[optind], flood);
	printf("total tried=%lu\n", total_tried);
	/* the count must reach the test even if a sanitizer ends us at
	 * exit; nng_fini frees what the unread floods left queued */
	fflush(stdout);
	nng_fini();
	return 0;
}
