/* Produces the task exits capture_taskstats.py records, each from a known task:
 *
 *   tw-taskstats single    comm "tw-ts-exit7": reads /dev/zero, writes /dev/null, touches
 *                          1 MiB, then exit(7): one AGGR_PID record, raw status 0x700.
 *   tw-taskstats threads   comm "tw-ts-threads" with two workers "tw-ts-worker": each
 *                          worker does the same work, then the main thread prints
 *                          "ready TID1 TID2\n" and waits for EOF on stdin (the capture
 *                          queries it with TASKSTATS_CMD_GET meanwhile), joins the workers
 *                          (two AGGR_PID-only exits) and exits 0 as the last thread: one
 *                          datagram with AGGR_PID and AGGR_TGID.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static void die(const char *what) { perror(what); _exit(100); }

/* Some reads, writes, page faults and CPU time, so the counters have something in them. */
static void work(void) {
    char buf[4096];
    int zero = open("/dev/zero", O_RDONLY);
    int null = open("/dev/null", O_WRONLY);
    if (zero < 0 || null < 0) die("open");
    for (int i = 0; i < 16; i++) {
        if (read(zero, buf, sizeof buf) != sizeof buf) die("read");
        if (write(null, buf, sizeof buf) != sizeof buf) die("write");
    }
    close(zero);
    close(null);
    size_t len = 1 << 20;
    volatile char *mem = malloc(len);
    if (!mem) die("malloc");
    for (size_t i = 0; i < len; i += 4096) mem[i] = 1;
    free((void *)mem);
    volatile unsigned long spin = 0;
    for (unsigned long i = 0; i < 20000000UL; i++) spin += i;
}

static pid_t tids[2];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done = PTHREAD_COND_INITIALIZER;
static int finished;
static int released;

static void *worker(void *arg) {
    long n = (long)arg;
    if (prctl(PR_SET_NAME, "tw-ts-worker", 0, 0, 0)) die("prctl worker");
    work();
    pthread_mutex_lock(&lock);
    tids[n] = (pid_t)syscall(SYS_gettid);
    finished++;
    pthread_cond_broadcast(&done);
    while (!released) pthread_cond_wait(&done, &lock);
    pthread_mutex_unlock(&lock);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s single|threads\n", argv[0]);
        return 100;
    }
    if (strcmp(argv[1], "single") == 0) {
        if (prctl(PR_SET_NAME, "tw-ts-exit7", 0, 0, 0)) die("prctl");
        work();
        exit(7);
    }
    if (strcmp(argv[1], "threads") != 0) return 100;
    if (prctl(PR_SET_NAME, "tw-ts-threads", 0, 0, 0)) die("prctl");
    pthread_t t[2];
    for (long i = 0; i < 2; i++)
        if (pthread_create(&t[i], NULL, worker, (void *)i)) die("pthread_create");
    pthread_mutex_lock(&lock);
    while (finished < 2) pthread_cond_wait(&done, &lock);
    pthread_mutex_unlock(&lock);
    printf("ready %d %d\n", tids[0], tids[1]);
    fflush(stdout);
    char c;
    while (read(0, &c, 1) > 0) {}
    pthread_mutex_lock(&lock);
    released = 1;
    pthread_cond_broadcast(&done);
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < 2; i++)
        if (pthread_join(t[i], NULL)) die("pthread_join");
    return 0;
}
