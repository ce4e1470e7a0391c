/* content.c: the line-end check and the header scan pickup runs over a
 * maildrop file's content (content.h). */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "content.h"

void pickup_crlf_init(struct pickup_crlf *c)
{
	memset(c, 0, sizeof(*c));
	c->at_bol = true;
}

int pickup_crlf_check(struct pickup_crlf *c, const void *data, size_t len,
		      const char **error_r)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		if (c->after_cr && p[i] != '\n') {
			*error_r = "bare CR in the content";
			return -1;
		}
		if (p[i] == '\n' && !c->after_cr) {
			*error_r = "bare LF in the content";
			return -1;
		}
		if (p[i] == '\0') {
			*error_r = "NUL in the content";
			return -1;
		}
		c->after_cr = p[i] == '\r';
		c->at_bol = p[i] == '\n';
		c->started = true;
	}
	return 1;
}

int pickup_crlf_finish(const struct pickup_crlf *c, const char **error_r)
{
	if (c->started && !c->at_bol) {
		*error_r = "the content does not end with CRLF";
		return -1;
	}
	return 1;
}

/* True when line[0..len) starts a field: name (printable, no ':'), ':'. */
static bool field_start(const char *line, size_t len, size_t *name_len_r)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c == ':') {
			*name_len_r = i;
			return i > 0;
		}
		if (c <= ' ' || c >= 0x7f)
			return false;
	}
	return false;
}

static void note_field(struct pickup_headers *h, const char *name, size_t n)
{
	if (n == 4 && strncasecmp(name, "Date", 4) == 0)
		h->has_date = true;
	else if (n == 10 && strncasecmp(name, "Message-ID", 10) == 0)
		h->has_message_id = true;
	else if (n == 4 && strncasecmp(name, "From", 4) == 0)
		h->has_from = true;
}

void pickup_headers_scan(const char *data, size_t len, struct pickup_headers *h)
{
	size_t pos = 0;
	bool in_field = false;

	memset(h, 0, sizeof(*h));
	while (pos < len) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t next, text, name_len;

		if (nl == NULL)
			break; /* an incomplete line: body from here */
		next = (size_t)(nl - data) + 1;
		text = next - pos - 1;
		if (text > 0 && data[pos + text - 1] == '\r')
			text--;
		if (text == 0) {
			h->blank_line = true;
			break;
		}
		if (data[pos] == ' ' || data[pos] == '\t') {
			if (!in_field) {
				h->needs_blank = true;
				break;
			}
			pos = next;
			h->end = pos;
			continue;
		}
		if (!field_start(data + pos, text, &name_len)) {
			h->needs_blank = true;
			break;
		}
		note_field(h, data + pos, name_len);
		in_field = true;
		pos = next;
		h->end = pos;
	}
}
