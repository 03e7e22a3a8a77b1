/* LD_PRELOAD shim for bench/no_amx.py: refuses the AMX tile-data permission request (Linux arch_prctl
   ARCH_REQ_XCOMP_PERM), so onnxruntime and oneDNN (OpenVINO, torch) run as on a CPU with AVX512-VNNI
   and no AMX. Every other syscall goes through unchanged. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <sys/syscall.h>

#define ARCH_REQ_XCOMP_PERM 0x1023

long syscall(long number, ...) {
    static long (*next_syscall)(long, ...);
    long arg[6];
    va_list ap;
    va_start(ap, number);
    for (int i = 0; i < 6; i++) arg[i] = va_arg(ap, long);
    va_end(ap);
    if (number == SYS_arch_prctl && arg[0] == ARCH_REQ_XCOMP_PERM) {
        errno = EPERM;
        return -1;
    }
    if (!next_syscall) next_syscall = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
    return next_syscall(number, arg[0], arg[1], arg[2], arg[3], arg[4], arg[5]);
}
