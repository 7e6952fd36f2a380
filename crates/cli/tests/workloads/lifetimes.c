/* Scripted lifetimes for the history tests. Usage:
 *   lifetimes exit N        sleep 100 ms, then exit(N)
 *   lifetimes signal N      sleep 100 ms, then raise(N) (default action)
 *   lifetimes change        setsid, rename to "renamed", gid/uid 65534, exit(3)
 *   lifetimes threads       3 threads burn 50 ms of CPU each (thread CPU clock), exit(0)
 *   lifetimes storm N       fork N children that exit at once, then exit(0)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0) {
    }
}

static void *burn(void *arg) {
    (void)arg;
    struct timespec t;
    do {
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    } while (t.tv_sec == 0 && t.tv_nsec < 50000000L);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: lifetimes exit|signal|change|threads|storm [N]\n");
        return 100;
    }
    int n = argc > 2 ? atoi(argv[2]) : 0;
    if (strcmp(argv[1], "exit") == 0) {
        sleep_ms(100);
        return n;
    }
    if (strcmp(argv[1], "signal") == 0) {
        sleep_ms(100);
        signal(n, SIG_DFL);
        raise(n);
        return 101;
    }
    if (strcmp(argv[1], "change") == 0) {
        if (setsid() < 0 || prctl(PR_SET_NAME, "renamed") != 0 || setgid(65534) != 0 ||
            setuid(65534) != 0) {
            perror("change");
            return 102;
        }
        sleep_ms(20);
        return 3;
    }
    if (strcmp(argv[1], "threads") == 0) {
        pthread_t t[3];
        for (int i = 0; i < 3; i++)
            pthread_create(&t[i], NULL, burn, NULL);
        for (int i = 0; i < 3; i++)
            pthread_join(t[i], NULL);
        return 0;
    }
    if (strcmp(argv[1], "storm") == 0) {
        for (int i = 0; i < n; i++) {
            pid_t p = fork();
            if (p == 0)
                _exit(0);
            if (p < 0) {
                perror("fork");
                return 103;
            }
            if (i % 64 == 63)
                while (waitpid(-1, NULL, WNOHANG) > 0) {
                }
        }
        while (wait(NULL) > 0) {
        }
        return 0;
    }
    fprintf(stderr, "unknown mode %s\n", argv[1]);
    return 100;
}
