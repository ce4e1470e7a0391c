#!/usr/bin/env bash
# bench/deliver-bench.sh BUILDDIR: end-to-end delivery into a Maildir,
# Postern vs Postfix, in one run: smtp-source injects COUNT messages into
# each server, timed until every one is in the Maildir (smtp-bench.py
# --wait maildir), with the servers' CPU per message. The set-up is
# bench/relay-bench.sh's (MODE=deliver); its knobs apply.
# bench/deliver-bench.md has the figures.
exec env MODE=deliver "$(dirname "$0")/relay-bench.sh" "$@"
