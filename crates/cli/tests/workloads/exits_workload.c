/* A task with known costs for `taskwatch exits`: burns 200 ms of CPU, touches 64 MiB,
 * writes 4 MiB to argv[1] with fsync, then exits 7. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 2)
        return 2;
    volatile unsigned long spin = 0;
    while (cpu_seconds() < 0.2)
        spin++;
    size_t big = 64u << 20;
    char *mem = malloc(big);
    if (!mem)
        return 3;
    memset(mem, 1, big);
    int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return 4;
    for (size_t done = 0; done < (4u << 20); done += 65536)
        if (write(fd, mem + done, 65536) != 65536)
            return 5;
    fsync(fd);
    close(fd);
    return 7;
}
