/* fuzz/smtpd_cmd_fuzz.c: libFuzzer target for smtpd's command line
 * parsing: the verb split (lib/smtp_parse.c), then what the daemon does with
 * the argument: MAIL/RCPT paths and parameters (lib/addr), NOTIFY, ORCPT
 * and the BDAT count. Beyond "no crash" it checks: the argument lies
 * inside the line; a verb is 1-15 letters; NOTIFY bits are non-zero with
 * NEVER alone; a BDAT count parsed is the decimal text given. */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "msg.h"
#include "queue_file.h"
#include "smtp_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_params(const struct addr_path *p)
{
	unsigned bits;

	for (unsigned i = 0; i < p->nparams; i++) {
		const char *k = p->params[i].keyword, *v = p->params[i].value;

		if (v == NULL)
			continue;
		if (strcmp(k, "NOTIFY") == 0 &&
		    smtpd_parse_notify(v, &bits) == 1 &&
		    (bits == 0 || ((bits & QUEUE_NOTIFY_NEVER) &&
				   bits != QUEUE_NOTIFY_NEVER)))
			msg_panic("bad NOTIFY bits %u", bits);
		if (strcmp(k, "ORCPT") == 0 && smtpd_check_orcpt(v) == 1 &&
		    strchr(v, ';') == NULL)
			msg_panic("ORCPT without a type accepted");
	}
}

static void check_bdat(const char *arg, size_t len)
{
	uint64_t n;
	bool last;
	char buf[32];
	size_t digits = 0, z = 0;

	if (smtpd_parse_bdat(arg, len, &n, &last) != 1)
		return;
	while (digits < len && isdigit((unsigned char)arg[digits]))
		digits++;
	while (z + 1 < digits && arg[z] == '0')
		z++;
	snprintf(buf, sizeof(buf), "%" PRIu64, n);
	if (strlen(buf) != digits - z || memcmp(buf, arg + z, digits - z) != 0)
		msg_panic("BDAT count is not the text given");
	if (last != (digits < len))
		msg_panic("BDAT LAST mismatch");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data, *arg = NULL;
	size_t alen = 0, v = smtpd_command_split(line, size, &arg, &alen);
	struct addr_path p;
	enum addr_error err;

	if (v == 0)
		return 0;
	if (v > 15 || arg < line || arg + alen != line + size)
		msg_panic("bad split");
	for (size_t i = 0; i < v; i++)
		if (!isalpha((unsigned char)line[i]))
			msg_panic("verb with a non-letter");
	addr_path_init(&p);
	if (v == 4 && strncasecmp(line, "MAIL", 4) == 0 && alen >= 5 &&
	    strncasecmp(arg, "FROM:", 5) == 0 &&
	    addr_path_parse(arg + 5, alen - 5, ADDR_PATH_MAIL, 0, NULL, &p,
			    &err) == 1)
		check_params(&p);
	else if (v == 4 && strncasecmp(line, "RCPT", 4) == 0 && alen >= 3 &&
		 strncasecmp(arg, "TO:", 3) == 0 &&
		 addr_path_parse(arg + 3, alen - 3, ADDR_PATH_RCPT,
				 ADDR_PARSE_SMTPUTF8, NULL, &p, &err) == 1)
		check_params(&p);
	else if (v == 4 && strncasecmp(line, "BDAT", 4) == 0)
		check_bdat(arg, alen);
	addr_path_deinit(&p);
	return 0;
}
