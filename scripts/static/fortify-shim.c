/* Debian's LLVM libunwind.a (libunwind-14-dev) was compiled against glibc with _FORTIFY_SOURCE: its error
 * messages call glibc's checked fprintf. musl has no such entry point; this one prints as fprintf does.
 * Linked into the static musl binaries only (scripts/static-build.sh). */
#include <stdarg.h>
#include <stdio.h>

int __fprintf_chk(FILE *stream, int flag, const char *format, ...)
{
    (void)flag;
    va_list ap;
    va_start(ap, format);
    int n = vfprintf(stream, format, ap);
    va_end(ap);
    return n;
}
