/* Replacing a file so that its path only ever holds the old or the new
 * version, the one rule both nnc_model_save and Python's savers follow
 * (docs/design.md "Replacing files"):
 *
 * - a symbolic link is followed: the file it names is replaced and the
 *   link stays (a link to a missing file is refused, ENOENT);
 * - only a regular file is replaced: a directory is EISDIR, a device, FIFO
 *   or socket EINVAL, before anything is written;
 * - the new version is written to a temporary file in the target's own
 *   directory, named ".<name>.nnc-<pid>-<random>.tmp" and created with
 *   O_CREAT|O_EXCL|O_NOFOLLOW (a planted file or link is never written
 *   through), then fsynced, renamed over the target, and the directory
 *   fsynced;
 * - the replaced file keeps its permission bits (and, where allowed, its
 *   owner); a new file gets 0666 less the umask, as open() gives;
 * - temporary files of this target left by processes that no longer exist
 *   (a save killed with SIGKILL) are removed by the next save. */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* O_NOFOLLOW, O_CLOEXEC, realpath, fchown, kill under -std=c11 */
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "nnc_internal.h"

struct nnc_file_replace {
    int fd;
    char *tmp;    /* the temporary file's path */
    char *target; /* the regular file (after following links) it replaces */
};

static const char TMP_TAG[] = ".nnc-";
static const char TMP_SUFFIX[] = ".tmp";

/* A status NNC_ERR_IO with errno = err and a message naming `path`. */
static nnc_status io_error(int err, const char *what, const char *path) {
    nnc_status st = nnc__fail(NNC_ERR_IO, "cannot %s '%s': %s", what, path, strerror(err));
    errno = err;
    return st;
}

static char *copy_string(const char *s, size_t n) {
    char *out = malloc(n + 1);
    if (out) {
        memcpy(out, s, n);
        out[n] = '\0';
    }
    return out;
}

/* 64 unpredictable bits: /dev/urandom, else the clock, the pid and an
 * address mixed (names are also protected by O_EXCL, so this is about not
 * being guessable, not about correctness). */
static uint64_t random_bits(void) {
    uint64_t r = 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t got = read(fd, &r, sizeof r);
        close(fd);
        if (got == (ssize_t)sizeof r) return r;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    r = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ull ^ (uint64_t)ts.tv_sec ^
        ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)&r;
    return r;
}

/* Remove ".<name>.nnc-<pid>-<hex>.tmp" files in `dir` that we own and whose
 * process is gone. Best effort: errors are ignored. */
static void remove_stale_temporaries(const char *dir, const char *name) {
    DIR *d = opendir(dir);
    if (!d) return;
    const size_t name_len = strlen(name);
    const int dfd = dirfd(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *s = e->d_name;
        const size_t len = strlen(s);
        const size_t fixed = 1 + name_len + sizeof TMP_TAG - 1;
        if (len <= fixed + sizeof TMP_SUFFIX - 1 || s[0] != '.' ||
            memcmp(s + 1, name, name_len) != 0 || memcmp(s + 1 + name_len, TMP_TAG, sizeof TMP_TAG - 1) != 0 ||
            strcmp(s + len - (sizeof TMP_SUFFIX - 1), TMP_SUFFIX) != 0)
            continue;
        char *end = NULL;
        errno = 0;
        const long pid = strtol(s + fixed, &end, 10);
        if (errno || end == s + fixed || *end != '-' || pid <= 0 || pid > INT_MAX) continue;
        if (pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        struct stat st;
        if (fstatat(dfd, s, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
            st.st_uid != geteuid())
            continue;
        unlinkat(dfd, s, 0);
    }
    closedir(d);
}

nnc_status nnc_file_replace_begin(const char *path, nnc_file_replace **out) {
    if (!path || !out) return nnc__fail(NNC_ERR_INVALID_ARG, "path or out is NULL");
    *out = NULL;
    if (!*path) return io_error(ENOENT, "write", path);

    /* The file to replace: `path`, or what its links lead to. */
    char *target = NULL;
    struct stat old;
    int exists = 0;
    if (lstat(path, &old) == 0) {
        exists = 1;
        if (S_ISLNK(old.st_mode)) {
            if (stat(path, &old) != 0) return io_error(errno, "follow the link", path);
            target = realpath(path, NULL);
            if (!target) return io_error(errno, "follow the link", path);
        }
        if (S_ISDIR(old.st_mode)) {
            free(target);
            return io_error(EISDIR, "replace", path);
        }
        if (!S_ISREG(old.st_mode)) {
            free(target);
            nnc_status st = nnc__fail(NNC_ERR_IO,
                                      "cannot replace '%s': not a regular file (a device, FIFO "
                                      "or socket is never overwritten)", path);
            errno = EINVAL;
            return st;
        }
    } else if (errno != ENOENT) {
        return io_error(errno, "write", path);
    }
    if (!target) target = copy_string(path, strlen(path));
    if (!target) return nnc__fail(NNC_ERR_NOMEM, "cannot allocate a file name");

    /* Split into directory and name. */
    const char *slash = strrchr(target, '/');
    const char *name = slash ? slash + 1 : target;
    char *dir = slash ? copy_string(target, slash == target ? 1 : (size_t)(slash - target))
                      : copy_string(".", 1);
    const size_t tmp_cap = strlen(target) + 64;
    char *tmp = malloc(tmp_cap);
    nnc_file_replace *r = malloc(sizeof *r);
    if (!dir || !tmp || !r || !*name) {
        const int bad_name = dir && tmp && r;
        free(dir), free(tmp), free(r), free(target);
        if (bad_name) return io_error(EISDIR, "replace", path);
        return nnc__fail(NNC_ERR_NOMEM, "cannot allocate a file name");
    }
    remove_stale_temporaries(dir, name);

    int fd = -1, err = 0;
    for (int attempt = 0; attempt < 16 && fd < 0; attempt++) {
        snprintf(tmp, tmp_cap, "%.*s.%s%s%ld-%016llx%s", (int)(name - target), target, name,
                 TMP_TAG, (long)getpid(), (unsigned long long)random_bits(), TMP_SUFFIX);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  exists ? 0600 : 0666);
        err = errno;
        if (fd < 0 && err != EEXIST) break;
    }
    free(dir);
    if (fd < 0) {
        nnc_status st = io_error(err, "create a temporary file next to", target);
        free(tmp), free(r), free(target);
        return st;
    }
    if (exists) {
        /* Keep the old file's owner where we may, and its mode. */
        if (old.st_uid != geteuid() || old.st_gid != getegid())
            (void)!fchown(fd, old.st_uid, old.st_gid);
        if (fchmod(fd, old.st_mode & 07777) != 0) {
            err = errno;
            close(fd);
            unlink(tmp);
            nnc_status st = io_error(err, "set the mode of", tmp);
            free(tmp), free(r), free(target);
            return st;
        }
    }
    r->fd = fd;
    r->tmp = tmp;
    r->target = target;
    *out = r;
    return NNC_OK;
}

int nnc_file_replace_fd(const nnc_file_replace *r) { return r ? r->fd : -1; }

static void release(nnc_file_replace *r) {
    free(r->tmp);
    free(r->target);
    free(r);
}

void nnc_file_replace_abort(nnc_file_replace *r) {
    if (!r) return;
    const int saved = errno;
    if (r->fd >= 0) close(r->fd);
    unlink(r->tmp);
    release(r);
    errno = saved;
}

nnc_status nnc_file_replace_commit(nnc_file_replace *r) {
    if (!r) return nnc__fail(NNC_ERR_INVALID_ARG, "replacement is NULL");
    const char *failed = NULL;
    int err = 0;
    if (fsync(r->fd) != 0) failed = "flush to disk", err = errno;
    if (close(r->fd) != 0 && !failed) failed = "close", err = errno;
    r->fd = -1;
    if (!failed && rename(r->tmp, r->target) != 0) failed = "rename over", err = errno;
    if (failed) {
        nnc_status st = io_error(err, failed, r->target);
        nnc_file_replace_abort(r);
        errno = err;
        return st;
    }
    /* Make the rename durable: fsync the directory (where the OS allows). */
    const char *slash = strrchr(r->target, '/');
    char *dir = slash ? copy_string(r->target, slash == r->target ? 1
                                                                   : (size_t)(slash - r->target))
                      : copy_string(".", 1);
    if (dir) {
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            (void)fsync(dfd);
            close(dfd);
        }
        free(dir);
    }
    release(r);
    return NNC_OK;
}

nnc_status nnc__write_file(const char *path, const void *data, size_t n) {
    nnc_file_replace *r = NULL;
    nnc_status st = nnc_file_replace_begin(path, &r);
    if (st) return st;
    const unsigned char *p = data;
    while (n > 0) {
        ssize_t wrote = write(r->fd, p, n);
        if (wrote < 0 && errno == EINTR) continue;
        if (wrote <= 0) {
            const int err = wrote < 0 ? errno : EIO;
            st = io_error(err, "write", path);
            nnc_file_replace_abort(r);
            errno = err;
            return st;
        }
        p += wrote;
        n -= (size_t)wrote;
    }
    return nnc_file_replace_commit(r);
}
