/*
 * cli_watch — `troupe watch [ACTOR...]`: a live trace of the messages a
 * broker routes (docs/ARCHITECTURE.md "Watch"): it renews the broker's
 * watch lease and prints the records of the tap.
 */
#ifndef CLI_WATCH_H
#define CLI_WATCH_H

#include "cli_opts.h"

/* Runs until interrupted or the tap is lost; returns the exit status. */
int cli_cmd_watch(const struct cli_opts *o, char **args);

#endif
