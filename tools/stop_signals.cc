#include "stop_signals.h"

#include <initializer_list>

namespace imgroot::cli {

namespace {

volatile std::sig_atomic_t g_stop_requested = 0;

void on_stop_signal(int) { g_stop_requested = 1; }

}  // namespace

const volatile std::sig_atomic_t* catch_stop_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) (void)::sigaction(sig, &sa, nullptr);  // cannot fail for these
  return &g_stop_requested;
}

}  // namespace imgroot::cli
