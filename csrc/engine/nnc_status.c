/*
 * nnc_status.c - the version string, status strings and the thread-local
 * last-error message.
 */
#include "nnc_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#if defined(_MSC_VER)
#define NNC_THREAD_LOCAL __declspec(thread)
#else
#define NNC_THREAD_LOCAL _Thread_local
#endif

static NNC_THREAD_LOCAL char last_error[512];

#define NNC__STR(x) #x
#define NNC__XSTR(x) NNC__STR(x)

const char *nnc_version(void) {
    return NNC__XSTR(NNC_VERSION_MAJOR) "." NNC__XSTR(NNC_VERSION_MINOR) "." NNC__XSTR(
        NNC_VERSION_PATCH);
}

const char *nnc_status_str(nnc_status status) {
    switch (status) {
    case NNC_OK: return "ok";
    case NNC_ERR_INVALID_ARG: return "invalid argument";
    case NNC_ERR_NOMEM: return "out of memory";
    case NNC_ERR_OVERFLOW: return "size overflow";
    case NNC_ERR_SHAPE: return "shape mismatch";
    case NNC_ERR_UNSUPPORTED: return "unsupported";
    case NNC_ERR_STATE: return "invalid state";
    case NNC_ERR_NONFINITE: return "non-finite value";
    case NNC_ERR_INTERRUPTED: return "interrupted";
    case NNC_ERR_FORMAT: return "malformed data";
    case NNC_ERR_IO: return "input/output error";
    }
    return "unknown status";
}

const char *nnc_last_error(void) {
    return last_error[0] ? last_error : "no error";
}

/* errno is kept: a caller reports an I/O failure with the errno of the
 * call that failed, and formatting the message must not change it. */
nnc_status nnc__fail(nnc_status status, const char *fmt, ...) {
    const int saved_errno = errno;
    va_list args;
    va_start(args, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, args);
    va_end(args);
    errno = saved_errno;
    return status;
}
