// Ctrl-C, kill and a closed terminal during long work (staging, provisioning).
#pragma once

#include <csignal>

namespace imgroot::cli {

// From now on SIGINT, SIGTERM and SIGHUP set the returned flag instead of
// ending the process, so the work stops between two chunks and cleans up
// after itself. No SA_RESTART: a blocked read returns, and the flag is seen
// at once. Pass the flag as the work's cancel pointer.
const volatile std::sig_atomic_t* catch_stop_signals();

}  // namespace imgroot::cli
