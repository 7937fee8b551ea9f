// The host partition's lock (state/host_lock.h) as the verbs take it:
// waiting is said on stderr, once, with the pid of the imgroot holding it.
#pragma once

#include <csignal>

#include "cli.h"
#include "state/host_lock.h"
#include "state/hostpart.h"

namespace imgroot::cli {

// Blocks until no other imgroot holds the lock; 'cancel' (catch_stop_signals)
// ends the wait with an error.
Result<state::HostLock> lock_hostpart(const state::Hostpart& hostpart,
                                      const volatile std::sig_atomic_t* cancel = nullptr);

}  // namespace imgroot::cli
