// SPDX-License-Identifier: MPL-2.0
// Clean shutdown on SIGINT/SIGTERM: the signals are blocked in every thread and one
// thread waits for them with sigwait(), then calls the handler (which sets flags and
// wakes loops; it runs on that thread, not in a signal context). SIGPIPE is ignored
// so a closed stdout/pipe output is an error return, not a crash.
#pragma once

#include <functional>

namespace bondcast {

// Call from main() before any other thread starts. The handler is called for the first
// SIGINT or SIGTERM; a second one ends the process at once (exit code 128 + signal).
void installStopSignals(std::function<void(int signo)> handler);

}  // namespace bondcast
