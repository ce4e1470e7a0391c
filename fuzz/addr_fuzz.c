/* fuzz/addr_fuzz.c: libFuzzer target for the SMTP path and ESMTP parameter
 * parser (lib/addr_path.c), the mailbox parser and canonical form
 * (lib/addr.c), xtext and num_parse_u64(). The first byte picks MAIL or
 * RCPT, SMTPUTF8, unqualified mailboxes and tight limits; the rest is the
 * text after "MAIL FROM:"/"RCPT TO:". Beyond "no crash" it checks the
 * promises of addr.h: a parsed address is printable and valid UTF-8, its
 * canonical form parses back to itself with the same relay flags (so policy
 * and routing can never see two spellings), parameters obey their grammar
 * and limits, and every error maps to a 5xx reply. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "addr.h"
#include "msg.h"
#include "num.h"
#include "str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_printable(const struct str *s, const char *what)
{
	for (size_t i = 0; i < s->len; i++) {
		unsigned char c = (unsigned char)s->data[i];

		if (c < 0x20 || c == 0x7f)
			msg_panic("control character in %s", what);
	}
	if (!addr_utf8_valid(s->data, s->len))
		msg_panic("invalid UTF-8 in %s", what);
}

/* The canonical form must parse to the same address and relay flags. */
static void check_canonical(const struct addr *a)
{
	const unsigned keep = ADDR_F_RELAY_SCRUTINY & ~ADDR_F_SOURCE_ROUTE;
	struct addr again;
	enum addr_error err;

	check_printable(&a->canon, "canonical form");
	check_printable(&a->local, "local part");
	check_printable(&a->domain, "domain");
	if (a->flags & ADDR_F_NULL) {
		if (a->canon.len != 0 || a->domain.len != 0)
			msg_panic("null path with content");
		return;
	}
	addr_init(&again);
	if (addr_parse(a->canon.data, a->canon.len,
		       ADDR_PARSE_SMTPUTF8 | ADDR_PARSE_UNQUALIFIED_OK, &again,
		       &err) != 1)
		msg_panic("canonical form \"%s\" does not parse: %d",
			  a->canon.data, (int)err);
	if (!str_eq_cstr(&again.canon, a->canon.data) ||
	    !str_eq_cstr(&again.domain, a->domain.data) ||
	    again.local.len != a->local.len ||
	    memcmp(again.local.data, a->local.data, a->local.len) != 0)
		msg_panic("canonical form \"%s\" is not stable", a->canon.data);
	if ((again.flags ^ a->flags) & keep)
		msg_panic("relay flags differ after a round trip: %x/%x",
			  a->flags, again.flags);
	addr_deinit(&again);
}

static void check_params(const struct addr_path *p, unsigned max_params)
{
	if (p->nparams > max_params)
		msg_panic("%u parameters over a limit of %u", p->nparams,
			  max_params);
	for (unsigned i = 0; i < p->nparams; i++) {
		const char *k = p->params[i].keyword, *v = p->params[i].value;

		if (k[0] == '\0' || k[0] == '-' ||
		    strspn(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") !=
			strlen(k))
			msg_panic("bad keyword \"%s\"", k);
		if (v != NULL && (v[0] == '\0' || strpbrk(v, " =") != NULL))
			msg_panic("bad value for %s", k);
		if (addr_path_param(p, k) != &p->params[i])
			msg_panic("keyword %s twice", k);
	}
}

static void check_error(enum addr_error err, enum addr_path_kind kind)
{
	const char *status;
	int code = addr_error_reply(err, kind, &status);

	if (code < 500 || code > 599 || status[0] != '5' ||
	    addr_error_text(err, kind)[0] == '\0')
		msg_panic("error %d has no 5xx reply", (int)err);
}

static void fuzz_xtext(const char *s, size_t len)
{
	struct str dec, enc, again;
	const char *error;

	str_init(&dec, 0);
	str_init(&enc, 0);
	str_init(&again, 0);
	if (addr_xtext_decode(s, len, &dec, &error) == 1) {
		addr_xtext_encode(dec.data, dec.len, &enc);
		if (addr_xtext_decode(enc.data, enc.len, &again, &error) != 1 ||
		    again.len != dec.len ||
		    memcmp(again.data, dec.data, dec.len) != 0)
			msg_panic("xtext round trip failed");
	}
	str_deinit(&dec);
	str_deinit(&enc);
	str_deinit(&again);
}

/* Compares num_parse_u64() with a plain reference computation. */
static void fuzz_num(const char *s, size_t len)
{
	unsigned __int128 ref = 0;
	bool digits = len > 0;
	uint64_t v = 0;
	int ret = num_parse_u64(s, len, UINT64_MAX / 3, &v), want = 1;

	for (size_t i = 0; i < len && digits; i++) {
		digits = s[i] >= '0' && s[i] <= '9';
		if (ref <= UINT64_MAX)
			ref = ref * 10 + (unsigned)(s[i] - '0');
	}
	if (!digits)
		want = -1;
	else if (ref > UINT64_MAX / 3)
		want = 0;
	if (ret != want || (want == 1 && v != ref))
		msg_panic("num_parse_u64 disagrees (ret %d)", ret);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct addr_limits small = {3, 8, 16};
	struct addr_path p;
	struct addr a;
	enum addr_error err;
	enum addr_path_kind kind;
	unsigned pflags = 0;
	const char *s;
	size_t len;

	if (size < 1)
		return 0;
	kind = data[0] & 1 ? ADDR_PATH_RCPT : ADDR_PATH_MAIL;
	if (data[0] & 2)
		pflags |= ADDR_PARSE_SMTPUTF8;
	if (data[0] & 4)
		pflags |= ADDR_PARSE_UNQUALIFIED_OK;
	s = (const char *)data + 1;
	len = size - 1;

	addr_path_init(&p);
	if (addr_path_parse(s, len, kind, pflags, data[0] & 8 ? &small : NULL,
			    &p, &err) == 1) {
		if (err != ADDR_ERR_NONE)
			msg_panic("success with an error set");
		check_canonical(&p.addr);
		check_params(&p, data[0] & 8 ? small.max_params
					     : ADDR_DEFAULT_MAX_PARAMS);
	} else {
		if (p.addr.canon.len != 0 || p.nparams != 0)
			msg_panic("error left results behind");
		check_error(err, kind);
	}
	addr_path_deinit(&p);

	addr_init(&a);
	if (addr_parse(s, len, pflags, &a, &err) == 1)
		check_canonical(&a);
	else
		check_error(err, kind);
	addr_deinit(&a);

	fuzz_xtext(s, len);
	fuzz_num(s, len);
	return 0;
}
