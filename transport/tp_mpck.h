/*
 * tp_mpck — a bounds walk over untrusted msgpack bytes.
 *
 * msgpack-c 4.0 allocates for an array's or map's declared count before it
 * reads one element (5 bytes `dd 00 40 00 00` ask for ~100 MB) and reports
 * nesting deeper than 32 as NOMEM.  So every received buffer is walked here
 * first: each length and count must fit in the bytes that remain (an element
 * takes at least one byte), and nesting may not exceed a limit.  After a
 * successful walk msgpack_unpack allocates at most a small multiple of the
 * input size.  No allocation, no recursion deeper than max_depth.
 */
#ifndef TP_MPCK_H
#define TP_MPCK_H

#include <stddef.h>
#include <stdint.h>

#include "tp_err.h"

/* Hard ceiling for any depth limit: msgpack-c fails past 32. */
#define TP_MPCK_DEPTH_MAX 32

/*
 * Walks one msgpack value that starts at buf[*off], at most len bytes in
 * all.  A scalar is depth 0, an array of scalars depth 1.  On success
 * returns 0 and advances *off past the value; else returns TP_ETRUNC,
 * TP_ETOOBIG (a count larger than the bytes left), TP_EDEPTH or TP_ETYPE
 * (the reserved byte 0xc1), with the offset in err.
 */
int tp_mpck_walk(const uint8_t *buf, size_t len, size_t *off,
    unsigned max_depth, struct tp_err *err);

#endif
