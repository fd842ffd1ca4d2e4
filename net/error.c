/* SPDX-License-Identifier: MIT */
/*
 * net/error.c: volt_strerror, a message for a negative errno or a
 * VOLT_EAI code, safe to call from any thread.
 *
 * strerror(3) may write a shared buffer, so errno text comes from glibc's
 * strerrordesc_np (2.32 and later: a pointer into a constant table) or,
 * on other C libraries, from the XSI strerror_r into a per-thread buffer.
 * gai_strerror returns constant strings.
 */
#include <errno.h>
#include <netdb.h>
#include <string.h>

#include "volt/net.h"

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
#define HAVE_STRERRORDESC_NP 1
#endif

/* The text for errno e (> 0), or NULL if the C library has none. */
static const char *errno_text(int e)
{
#ifdef HAVE_STRERRORDESC_NP
	return strerrordesc_np(e);
#else
	static _Thread_local char buf[128];
	int (*xsi)(int, char *, size_t) = strerror_r; /* fails to build on the GNU form */

	return xsi(e, buf, sizeof(buf)) == 0 ? buf : NULL;
#endif
}

const char *volt_strerror(int err)
{
	const char *s = NULL;

	if (err == 0)
		return "success";
	if (VOLT_IS_EAI(err))
		return gai_strerror(err + VOLT_EAI_BASE);
	if (err < 0 && err > -VOLT_EAI_BASE)
		s = errno_text(-err);
	return s ? s : "unknown error";
}
