/* Test-only shim for running Rust programs under Wine 8, which lacks bcryptprimitives.dll's ProcessPrng
 * (real Windows 10 and later have it; Rust's std imports it for random numbers). It forwards to
 * RtlGenRandom (advapi32's SystemFunction036). Built by scripts/windows-check.sh and placed next to the exe
 * in the test's private Wine prefix only; never shipped. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) {
            return FALSE;
        }
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
