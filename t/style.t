#!/bin/sh
# t/style.t: the tree never calls the unbounded string functions STYLE.md bans.
. "${top_srcdir:-.}/t/lib.sh"
cd "$top_srcdir" || exit 1
hits=$(grep -nE '\<(strcpy|strcat|sprintf|vsprintf|strncpy|gets)[[:space:]]*\(' \
	lib/*.c lib/*.h cli/*.c master/*.c smtpd/*.c auth/*.c qmgr/*.c local/*.c pickup/*.c smtp/*.c imapd/*.c pop3d/*.c pipe/*.c lmtpd/*.c fuzz/*.c t/unit/*.c t/svc/*.c bench/*.c 2>/dev/null)
is "$hits" "" "no strcpy/strcat/sprintf/vsprintf/strncpy/gets in the sources"
done_testing
