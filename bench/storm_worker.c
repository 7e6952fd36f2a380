/* One storm worker: creates N children as fast as it can, alternating fork+exit and
 * fork+exec+exit, reaping each before the next. Prints its pid and elapsed ns. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: storm_worker N EXEC_PATH\n"); return 2; }
    long n = atol(argv[1]);
    const char *path = argv[2];
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < n; i++) {
        pid_t p = fork();
        if (p == 0) {
            if (i & 1) { execl(path, "storm_true", (char *)NULL); _exit(127); }
            _exit(0);
        }
        if (p < 0) { perror("fork"); return 1; }
        int status;
        waitpid(p, &status, 0);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%d %lld\n", getpid(), (long long)(b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec));
    return 0;
}
