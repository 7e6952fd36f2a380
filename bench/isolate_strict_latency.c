/* Strict-mode signal latency under `taskwatch isolate run`: enter isolation with the
 * prctl, store CLOCK_MONOTONIC in a shared file mapping (no system call), then violate:
 *   write: write(1, ...)     fault: touch a page mapped before the prctl but never used.
 * The supervisor's JSON gives when it signalled; the difference is the latency. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3)
        return 2;
    int fd = open(argv[2], O_RDWR | O_CREAT, 0600);
    if (fd < 0 || ftruncate(fd, 4096) != 0)
        return 3;
    volatile uint64_t *shared = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (shared == MAP_FAILED)
        return 4;
    shared[0] = 0; /* no stale time from an earlier run; faults the page in */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* the vDSO too */
    /* What an isolated program does first: every page resident, so that the only fault
     * after the prctl is the deliberate one below. */
    if (mlockall(MCL_CURRENT) != 0)
        return 6;
    char *fresh = mmap(0, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (fresh == MAP_FAILED)
        return 4;
    if (prctl(48, 1, 0, 0, 0) != 0)
        return 5;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    shared[0] = (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
    if (strcmp(argv[1], "write") == 0)
        write(1, "x\n", 2);
    else
        fresh[4096 * 7] = 1;
    /* A strict violation above must have killed us; spin so the fault case can be seen. */
    for (;;)
        ;
}
