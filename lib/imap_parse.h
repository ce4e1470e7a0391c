/* imap_parse.h: reading and parsing IMAP client commands (RFC 3501, 9051).
 *
 * Data flow in imapd: the connection's line reader hands each line (without
 * CRLF) to the command reader below; when a line announces a literal the
 * session reads that many raw bytes and hands them over too. Once the reader
 * says COMPLETE, the whole command (lines and literals as sent) goes to the
 * parser, which turns it into a tree of arguments for the command handlers.
 * The helpers for sequence sets, modified UTF-7, string output and dates are
 * in imap_util.h (included here). */
#ifndef POSTERN_IMAP_PARSE_H
#define POSTERN_IMAP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap_util.h"

/* ---- Command reader: collects one whole command (lines + literals). */
struct imap_reader;

/* max_command: most bytes of one command excluding literals (the lines and
 * their CRLFs); max_literal: most bytes of one literal; max_total: most
 * bytes of the whole command including all literals. Never NULL. */
struct imap_reader *imap_reader_new(size_t max_command, uint64_t max_literal,
				    uint64_t max_total);
void imap_reader_free(struct imap_reader **rp);
/* LITERAL- (RFC 7888): a non-synchronizing literal larger than max (4096
 * for LITERAL-) is TOO_BIG with *sync_r false. Default: no extra limit (only
 * max_literal applies, i.e. LITERAL+). */
void imap_reader_set_nonsync_max(struct imap_reader *r, uint64_t max);

enum imap_read {
	IMAP_READ_COMPLETE, /* imap_reader_command() holds a whole command */
	IMAP_READ_LITERAL,  /* read *need_r raw bytes next (may be 0) and
			       give them to imap_reader_literal(); if *sync_r,
			       first send "+ OK" (a continuation request) */
	IMAP_READ_TOO_BIG,  /* a literal or the command is over a limit;
			       *sync_r true: reply "<tag> NO [TOOBIG] ..." or
			       BAD and the command is dropped (the client sends
			       no literal); *sync_r false (LITERAL+ /
			       LITERAL-): the client sends the bytes anyway,
			       the session must end (BYE). The reader is reset
			       either way, but imap_reader_tag() still gives
			       the dropped command's tag until the next line. */
};

/* Takes one input line without its CRLF (len may include NUL bytes).
 * A line ending in "{N}", "{N+}", "~{N}" or "~{N+}" (outside a quoted
 * string) asks for a literal. After COMPLETE or TOO_BIG the next line
 * starts a new command. *error_r is set for TOO_BIG (a short reason).
 * Calling this while literal bytes are still owed is a bug (panics). */
enum imap_read imap_reader_line(struct imap_reader *r, const char *line,
				size_t len, uint64_t *need_r, bool *sync_r,
				const char **error_r);
/* Appends len literal bytes; called until imap_reader_literal_left() is 0,
 * then the next line goes to imap_reader_line(). len must not exceed the
 * bytes still owed (a bug otherwise: panics). */
void imap_reader_literal(struct imap_reader *r, const void *data, size_t len);
uint64_t imap_reader_literal_left(const struct imap_reader *r);
/* The assembled command: the lines joined with "\r\n" and the literal bytes
 * inline exactly as sent (so "A1 LOGIN {3}\r\nbob {5}\r\nsecret"), NUL-
 * terminated. Valid after COMPLETE until the next call on r. */
const char *imap_reader_command(const struct imap_reader *r, size_t *len_r);
/* Best-effort tag of the command being read (for error replies), "*" when
 * none parseable yet. Valid until the next call on r. */
const char *imap_reader_tag(const struct imap_reader *r);
/* Forgets the command being read, its tag and any literal still owed. */
void imap_reader_reset(struct imap_reader *r);

/* ---- Parser: a whole command into an argument tree. */
enum imap_arg_type {
	IMAP_ARG_ATOM,	  /* includes atoms with [...] and <...> parts */
	IMAP_ARG_QUOTED,  /* "..." with \" and \\ unescaped */
	IMAP_ARG_LITERAL, /* {n} or ~{n} data */
	IMAP_ARG_LIST,	  /* ( ... ) */
	IMAP_ARG_NIL,	  /* the atom NIL (case-insensitive) */
};

struct imap_arg {
	enum imap_arg_type type;
	const char *str; /* ATOM/QUOTED/LITERAL/NIL: NUL-terminated copy */
	size_t len;	 /* may include NUL bytes for literal8 */
	bool literal8;
	struct imap_arg *list; /* LIST: the children */
	size_t count;
};

struct imap_command {
	const char *tag;
	const char *name;      /* the command word, as sent (compare ci) */
	struct imap_arg *args; /* the arguments after the name */
	size_t count;
};

/* Limits of one parse. */
#define IMAP_PARSE_MAX_DEPTH 32
#define IMAP_PARSE_MAX_ARGS 100000

struct imap_parser;
struct imap_parser *imap_parser_new(void);
void imap_parser_free(struct imap_parser **pp);

/* Parses buf (from imap_reader_command). The tree (all strings included) is
 * owned by p and valid until the next call on p.
 * Syntax: tag SP name [SP arg...]; runs of spaces are accepted between
 * words. An atom may hold one "[...]" part (spaces, quoted strings and a
 * parenthesized list inside, e.g. BODY.PEEK[HEADER.FIELDS (From To)])
 * optionally followed by "<...>" (digits and dots); "\" may start an atom
 * (flags) and '*' and '%' are atom characters (sequence sets, LIST
 * patterns). Quoted strings may hold 8-bit bytes (UTF-8 is checked by the
 * caller where it matters) but no CR, LF or NUL; literals hold anything
 * (a NUL only in a literal8).
 * Returns 1, or -1 with *error_r (a short reason for a BAD reply);
 * cmd_r->tag is set whenever the tag was parseable, else "*".
 * Limits: list nesting <= IMAP_PARSE_MAX_DEPTH, at most IMAP_PARSE_MAX_ARGS
 * arguments in all (list members included). */
int imap_parse_command(struct imap_parser *p, const char *buf, size_t len,
		       struct imap_command *cmd_r, const char **error_r);

/* Case-insensitive ASCII compare of an arg with a word: true for an atom,
 * NIL, quoted or literal string equal to word (a list is never equal). */
bool imap_arg_is(const struct imap_arg *a, const char *word);
/* The string value of an astring argument (atom, quoted or literal); NULL
 * if a list or NIL. */
const char *imap_arg_astring(const struct imap_arg *a, size_t *len_r);
/* The same, but NIL counts as the word "NIL" (for places where the grammar
 * has astring, where NIL is not special: mailbox names, LOGIN). */
const char *imap_arg_astring_nil(const struct imap_arg *a, size_t *len_r);

#endif
