// SPDX-License-Identifier: MPL-2.0
#include "common/signals.h"

#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

namespace bondcast {

void installStopSignals(std::function<void(int)> handler, std::function<void()> reload) {
  ::signal(SIGPIPE, SIG_IGN);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  if (reload) {
    sigaddset(&set, SIGHUP);
  }
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set, handler = std::move(handler), reload = std::move(reload)] {
    for (bool first = true;;) {
      int signo = 0;
      while (sigwait(&set, &signo) != 0) {
      }
      if (signo == SIGHUP) {
        reload();  // no stop request
        continue;
      }
      if (!first) {
        // Whatever the first one is waiting for (a peer, a drain, libsrt), the user wants
        // out now: a supervisor's second SIGTERM, or Ctrl-C twice.
        std::fprintf(stderr, "bondcast: second %s, exiting now\n",
                     signo == SIGINT ? "SIGINT" : "SIGTERM");
        std::_Exit(128 + signo);
      }
      first = false;
      handler(signo);
    }
  }).detach();
}

}  // namespace bondcast
