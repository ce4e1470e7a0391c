/* t/unit/file.c: tests for lib/file.c: atomic replace, safe open, read limits. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "str.h"
#include "tap.h"

int main(void)
{
	const char *dir = tap_tmpdir();
	const char *err = NULL;
	struct str path, slink, data, other;
	struct stat st;
	int fd;

	str_init(&path, 0);
	str_init(&slink, 0);
	str_init(&data, 0);
	str_init(&other, 0);
	str_printf(&path, "%s/f", dir);
	str_printf(&slink, "%s/l", dir);
	str_printf(&other, "%s/g", dir);

	is_int(file_write_atomic(path.data, "one\n", 4, 0640, &err), 1, "atomic write");
	is_int(file_read_all(path.data, &data, 0, &err), 1, "read back");
	is_str(data.data, "one\n", "content matches");
	stat(path.data, &st);
	is_int(st.st_mode & 0777, 0640, "mode applied");
	is_int(file_write_atomic(path.data, "two\n", 4, 0600, &err), 1, "atomic replace");
	str_clear(&data);
	file_read_all(path.data, &data, 0, &err);
	is_str(data.data, "two\n", "replaced content");
	str_clear(&data);
	is_int(file_read_all(path.data, &data, 2, &err), -1, "read over the limit fails");
	ok(err && strstr(err, "larger than 2 bytes"), "limit error names the limit: %s", err);

	ok(symlink(path.data, slink.data) == 0, "make symlink");
	fd = file_open_safe(slink.data, O_RDONLY, 0, (uid_t)-1, &err);
	is_int(fd, -1, "safe open refuses a symlink");
	fd = file_open_safe(path.data, O_RDONLY, 0, getuid() + 1, &err);
	is_int(fd, -1, "safe open refuses the wrong owner");
	ok(err && strstr(err, "owned"), "owner error: %s", err);
	ok(link(path.data, other.data) == 0, "make hard link");
	fd = file_open_safe(path.data, O_RDONLY, 0, (uid_t)-1, &err);
	is_int(fd, -1, "safe open refuses a hard-linked file");
	unlink(other.data);
	fd = file_open_safe(path.data, O_RDONLY, 0, getuid(), &err);
	ok(fd >= 0, "safe open accepts own regular file");
	close(fd);

	is_int(file_rename_durable(path.data, other.data, &err), 1, "durable rename");
	ok(access(other.data, F_OK) == 0 && access(path.data, F_OK) != 0,
	   "renamed file moved");
	str_clear(&data);
	is_int(file_read_all(dir, &data, 0, &err), -1, "reading a directory fails");
	is_int(file_read_all(path.data, &data, 0, &err), -1, "reading a missing file fails");
	ok(err && strstr(err, path.data), "error names the file: %s", err);

	str_deinit(&path);
	str_deinit(&slink);
	str_deinit(&data);
	str_deinit(&other);
	return tap_done();
}
