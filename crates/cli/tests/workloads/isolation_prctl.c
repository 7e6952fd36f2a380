/* The task isolation prctl ABI under `taskwatch isolate run`, three ways:
 *   two-cpus: widen the affinity to CPUs 0 and argv[2], prctl(48, ENABLE) must fail
 *             with EINVAL; prints "prctl=-1 errno=22" and exits 0.
 *   one-cpu:  prctl(48, ENABLE) must return 0 and prctl(49) the flags (else exit 3/4),
 *             then write(1, "hello\n", 6): strict mode must kill it before the write.
 *   spin:     spin 300 ms on the vDSO clock without a system call, exit 0.
 *   naps:     sleep 10 ms at a time, never calling the prctl, for 60 s (a hang guard),
 *             then exit 0: --strict-after must end it sooner, with a signal. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define PR_SET_TASK_ISOLATION 48
#define PR_GET_TASK_ISOLATION 49
#define PR_TASK_ISOLATION_ENABLE (1 << 0)

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 2)
        return 2;
    if (strcmp(argv[1], "two-cpus") == 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(0, &set);
        CPU_SET(argc > 2 ? atoi(argv[2]) : 1, &set);
        if (sched_setaffinity(0, sizeof set, &set) != 0)
            return 5;
        int ret = prctl(PR_SET_TASK_ISOLATION, PR_TASK_ISOLATION_ENABLE, 0, 0, 0);
        printf("prctl=%d errno=%d\n", ret, ret < 0 ? errno : 0);
        return 0;
    }
    if (strcmp(argv[1], "one-cpu") == 0) {
        /* As the series asks of isolated programs: no page fault may follow the prctl
         * (strict mode reports it), so lock every page mapped now, libc's write too. */
        if (mlockall(MCL_CURRENT) != 0)
            return 6;
        /* Then fault 64 fresh pages just before the prctl: those faults are still in the
         * trace ring when the prctl is answered, and must not count as violations. */
        char *fresh = mmap(NULL, 64 * 4096, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (fresh == MAP_FAILED)
            return 7;
        for (int i = 0; i < 64; i++)
            fresh[i * 4096] = 1;
        if (prctl(PR_SET_TASK_ISOLATION, PR_TASK_ISOLATION_ENABLE, 0, 0, 0) != 0)
            return 3;
        if (prctl(PR_GET_TASK_ISOLATION, 0, 0, 0, 0) != PR_TASK_ISOLATION_ENABLE)
            return 4;
        write(1, "hello\n", 6);
        return 0; /* not reached when strict mode works */
    }
    if (strcmp(argv[1], "spin") == 0) {
        volatile unsigned long spins = 0;
        double end = now() + 0.3;
        while (now() < end)
            spins++;
        return 0;
    }
    if (strcmp(argv[1], "naps") == 0) {
        struct timespec nap = {0, 10 * 1000 * 1000};
        for (int i = 0; i < 6000; i++)
            nanosleep(&nap, NULL);
        return 0;
    }
    return 2;
}
