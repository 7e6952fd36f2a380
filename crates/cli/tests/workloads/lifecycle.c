/* Creates one task per lifecycle event kind with a known outcome and prints, as JSON on
 * stdout, the pids involved and what the kernel reported to us, for the watch tests. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int wait_status(pid_t pid) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {}
    return status;
}

static void *thread_main(void *out) {
    *(pid_t *)out = (pid_t)syscall(SYS_gettid);
    return NULL;
}

static int pipe_fds[2];

int main(int argc, char **argv) {
    const char *short_lived = argc > 1 ? argv[1] : "/bin/true";
    pid_t p;

    /* setsid */
    pid_t sid_pid = fork();
    if (sid_pid == 0) { setsid(); _exit(0); }
    wait_status(sid_pid);

    /* setresgid then setresuid */
    pid_t id_pid = fork();
    if (id_pid == 0) {
        if (setresgid(1234, 1234, 1234) || setresuid(4321, 4321, 4321)) _exit(99);
        _exit(0);
    }
    int id_status = wait_status(id_pid);

    /* comm change */
    pid_t comm_pid = fork();
    if (comm_pid == 0) { prctl(PR_SET_NAME, "tw-renamed", 0, 0, 0); _exit(0); }
    wait_status(comm_pid);

    /* a thread created and exited, reported through a pipe */
    pipe(pipe_fds);
    pid_t thread_pid = fork();
    if (thread_pid == 0) {
        pthread_t t;
        pid_t tid = 0;
        pthread_create(&t, NULL, thread_main, &tid);
        pthread_join(t, NULL);
        write(pipe_fds[1], &tid, sizeof tid);
        _exit(0);
    }
    pid_t tid = 0;
    read(pipe_fds[0], &tid, sizeof tid);
    wait_status(thread_pid);

    /* exec of a short-lived binary */
    pid_t exec_pid = fork();
    if (exec_pid == 0) { execl(short_lived, "tw-short", "--flag", (char *)NULL); _exit(127); }
    int exec_status = wait_status(exec_pid);

    /* ptrace attach and detach */
    pid_t traced_pid = fork();
    if (traced_pid == 0) { for (;;) pause(); }
    ptrace(PTRACE_ATTACH, traced_pid, 0, 0);
    wait_status(traced_pid); /* stopped */
    ptrace(PTRACE_DETACH, traced_pid, 0, 0);
    kill(traced_pid, SIGKILL);
    int traced_status = wait_status(traced_pid);

    /* SIGSEGV with a core dump attempted */
    pid_t segv_pid = fork();
    if (segv_pid == 0) {
        struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};
        setrlimit(RLIMIT_CORE, &rl);
        if (chdir("/tmp")) _exit(98);
        raise(SIGSEGV);
        _exit(97);
    }
    int segv_status = wait_status(segv_pid);

    /* an exit code */
    pid_t code_pid = fork();
    if (code_pid == 0) _exit(7);
    wait_status(code_pid);

    /* death by SIGKILL */
    pid_t kill_pid = fork();
    if (kill_pid == 0) { for (;;) pause(); }
    kill(kill_pid, SIGKILL);
    wait_status(kill_pid);

    (void)p;
    printf("{\"self\":%d,\"sid\":%d,\"id\":%d,\"id_status\":%d,\"comm\":%d,\"thread_process\":%d,"
           "\"thread\":%d,\"exec\":%d,\"exec_status\":%d,\"traced\":%d,\"traced_status\":%d,"
           "\"segv\":%d,\"segv_core\":%s,\"code\":%d,\"killed\":%d}\n",
           getpid(), sid_pid, id_pid, id_status, comm_pid, thread_pid, tid, exec_pid, exec_status,
           traced_pid, traced_status, segv_pid, WCOREDUMP(segv_status) ? "true" : "false", code_pid,
           kill_pid);
    return 0;
}
