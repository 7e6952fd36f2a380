/* Triggers every proc connector event kind from one process tree, in a fixed order, for
 * capture_cn_proc.py. Run as root, as a direct child of the capturing process.
 *
 *   exec   (this program being exec'd)
 *   comm   prctl(PR_SET_NAME, "tw-golden")
 *   fork   (thread) + exit (thread, exit_signal -1)
 *   fork   grandchild T; ptrace attach + detach of T (two ptrace events); T exits 0
 *   fork   grandchild C; C aborts: coredump event (C is non-dumpable: no core file), exit
 *   sid    setsid()
 *   gid    setresgid(65534, 65534, 65534)
 *   uid    setresuid(65534, 65534, 65534)
 *   exit   exit(3): exit_code 0x300, exit_signal 17
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what) { perror(what); _exit(100); }

static void *thread_main(void *arg) { return arg; }

int main(void) {
    if (prctl(PR_SET_NAME, "tw-golden", 0, 0, 0)) die("prctl");

    pthread_t t;
    if (pthread_create(&t, NULL, thread_main, NULL)) die("pthread_create");
    if (pthread_join(t, NULL)) die("pthread_join");

    int pipefd[2];
    if (pipe(pipefd)) die("pipe");
    pid_t tracee = fork();
    if (tracee < 0) die("fork tracee");
    if (tracee == 0) {
        char c;
        close(pipefd[1]);
        while (read(pipefd[0], &c, 1) > 0) {}
        _exit(0);
    }
    close(pipefd[0]);
    int status;
    if (ptrace(PTRACE_ATTACH, tracee, 0, 0)) die("PTRACE_ATTACH");
    if (waitpid(tracee, &status, 0) != tracee) die("waitpid tracee stop");
    if (ptrace(PTRACE_DETACH, tracee, 0, 0)) die("PTRACE_DETACH");
    kill(tracee, SIGCONT);
    close(pipefd[1]);
    if (waitpid(tracee, &status, 0) != tracee) die("waitpid tracee");

    pid_t crasher = fork();
    if (crasher < 0) die("fork crasher");
    if (crasher == 0) {
        struct rlimit zero = {0, 0};
        setrlimit(RLIMIT_CORE, &zero);
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); /* the event is sent anyway; no core file */
        abort();
    }
    if (waitpid(crasher, &status, 0) != crasher) die("waitpid crasher");
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT) {
        fprintf(stderr, "crasher status %#x\n", status);
        _exit(101);
    }

    if (setsid() < 0) die("setsid");
    if (setresgid(65534, 65534, 65534)) die("setresgid");
    if (setresuid(65534, 65534, 65534)) die("setresuid");
    exit(3);
}
