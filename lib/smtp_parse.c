/* smtp_parse.c: the pure parsers of server-side SMTP command lines (see
 * smtp_parse.h). */
#include "config.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "num.h"
#include "smtp_parse.h"
#include "queue_file.h"
#include "str.h"

#define SMTPD_VERB_MAX 15

size_t smtpd_command_split(const char *line, size_t len, const char **arg_r,
			   size_t *arg_len_r)
{
	size_t n = 0;

	while (n < len && isalpha((unsigned char)line[n]))
		n++;
	if (n == 0 || n > SMTPD_VERB_MAX || (n < len && line[n] != ' '))
		return 0;
	*arg_r = line + n;
	*arg_len_r = len - n;
	if (n < len) {
		(*arg_r)++;
		(*arg_len_r)--;
	}
	return n;
}

int smtpd_parse_notify(const char *value, unsigned *notify_r)
{
	static const struct {
		const char *word;
		unsigned bit;
	} words[] = {{"NEVER", QUEUE_NOTIFY_NEVER},
		     {"SUCCESS", QUEUE_NOTIFY_SUCCESS},
		     {"FAILURE", QUEUE_NOTIFY_FAILURE},
		     {"DELAY", QUEUE_NOTIFY_DELAY}};
	unsigned bits = 0, bit;
	const char *p = value, *end;
	size_t n;

	do {
		end = strchr(p, ',');
		n = end ? (size_t)(end - p) : strlen(p);
		bit = 0;
		for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++)
			if (strlen(words[i].word) == n &&
			    strncasecmp(words[i].word, p, n) == 0)
				bit = words[i].bit;
		if (bit == 0 || (bits & bit))
			return -1;
		bits |= bit;
		p = end ? end + 1 : NULL;
	} while (p != NULL);
	if ((bits & QUEUE_NOTIFY_NEVER) && bits != QUEUE_NOTIFY_NEVER)
		return -1;
	*notify_r = bits;
	return 1;
}

int smtpd_check_orcpt(const char *value)
{
	const char *semi = strchr(value, ';');
	const char *err;
	struct str tmp;
	int r;

	if (semi == NULL || semi == value)
		return -1;
	for (const char *p = value; p < semi; p++)
		if (!isalnum((unsigned char)*p) && *p != '-')
			return -1;
	str_init(&tmp, 64);
	r = addr_xtext_decode(semi + 1, strlen(semi + 1), &tmp, &err);
	if (r > 0 && tmp.len == 0)
		r = -1;
	str_deinit(&tmp);
	return r > 0 ? 1 : -1;
}

int smtpd_parse_bdat(const char *arg, size_t len, uint64_t *size_r,
		     bool *last_r)
{
	const char *sp = memchr(arg, ' ', len);
	size_t nlen = sp ? (size_t)(sp - arg) : len;
	int r = num_parse_u64(arg, nlen, UINT64_MAX, size_r);

	if (r <= 0)
		return r;
	if (sp != NULL &&
	    (len - nlen - 1 != 4 || strncasecmp(sp + 1, "LAST", 4) != 0))
		return -1;
	*last_r = sp != NULL;
	return 1;
}
