/*
 * stop.h: how both demo processes stop. SIGINT, SIGTERM and SIGHUP set `stop_requested`, which
 * the main loops check after every blocking call; the handler is installed without SA_RESTART,
 * so a signal interrupts a sleep or a semop() with EINTR and is noticed at once. Linux only:
 * PR_SET_PDEATHSIG sends SIGTERM when the launcher (npm run demo) dies, even by SIGKILL, so the
 * demo never runs on unattended with nobody left to stop it.
 */
#ifndef SHMSCOPE_DEMO_STOP_H
#define SHMSCOPE_DEMO_STOP_H

#include <signal.h>
#include <sys/prctl.h>

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

static void stop_on_signals(void) {
    struct sigaction sa = {.sa_handler = on_stop_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
}

#endif
