/* fuzz/mstore_index_fuzz.c: the mail store's index parsers: the base file
 * (postern-index) and the change log replayed over it. Input: a mode byte,
 * a 16-bit base length, the base image, then the log. Mode bit 1 makes the
 * base's checksum right (so the parser's own checks are what stands), bit
 * 2 uses a small valid base when the given one is refused, bit 4 reads the
 * log as [16-bit length][payload]... and frames each payload as a
 * checksummed group (so the record checks are reached); without it the
 * log bytes are replayed raw. Whatever state a replay reaches must write
 * out as a base that parses again, and memory stays within a multiple of
 * the input. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mstore_internal.h"
#include "str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LOG_ID 1

static void base_valid(struct mdir_state *st)
{
	memset(st, 0, sizeof(*st));
	st->uidvalidity = 7;
	st->uidnext = 1;
	st->first_recent_uid = 1;
	st->highestmodseq = 1;
	st->log_id = LOG_ID;
	memcpy(st->mailboxid, "Mfuzz", 5);
	str_init(&st->names, 16);
}

static void base_load(const uint8_t *p, size_t len, int mode,
		      struct mdir_state *st)
{
	struct str img;

	str_init(&img, len + 8);
	str_append(&img, p, len);
	if ((mode & 1) && img.len >= 16) {
		uint64_t sum = mdir_index_checksum(img.data, img.len - 8);

		memcpy(img.data + img.len - 8, &sum, 8);
	}
	if (mdir_index_parse(img.data, img.len, st) != NULL) {
		mdir_state_clear(st);
		if (mode & 2)
			base_valid(st);
	}
	str_deinit(&img);
}

/* The log bytes as groups: [len][payload]... framed and checksummed. */
static void log_frame(const uint8_t *p, size_t len, struct str *out)
{
	mdir_log_header_build(out, LOG_ID);
	while (len >= 2) {
		size_t n = (size_t)p[0] | (size_t)p[1] << 8;

		p += 2, len -= 2;
		if (n > len)
			n = len;
		mdir_log_group_wrap(p, n, LOG_ID, out->len, out);
		p += n, len -= n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mdir_state st = {0}, again = {0};
	struct mdir_log_replay res;
	struct str log, out;
	size_t blen;
	int mode;

	if (size < 3)
		return 0;
	mode = data[0];
	blen = ((size_t)data[1] | (size_t)data[2] << 8) % (size - 2);
	base_load(data + 3, blen, mode, &st);
	str_init(&log, 64);
	if (mode & 4)
		log_frame(data + 3 + blen, size - 3 - blen, &log);
	else
		str_append(&log, data + 3 + blen, size - 3 - blen);
	if (st.uidvalidity != 0 && log.len > MDIR_LOG_HDR) {
		mdir_log_replay(&st, LOG_ID, log.data + MDIR_LOG_HDR,
				log.len - MDIR_LOG_HDR, MDIR_LOG_HDR, &res);
		str_init(&out, 256);
		mdir_index_serialize(&st, &out);
		if (mdir_index_parse(out.data, out.len, &again) != NULL)
			abort(); /* a replay made a state no base can hold */
		mdir_state_clear(&again);
		str_deinit(&out);
	}
	mdir_state_clear(&st);
	str_deinit(&log);
	return 0;
}
