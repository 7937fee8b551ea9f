// Why the node runs what it runs, in words (imgroot status, the login
// banner): which image was given up, why, since when, and its last failed
// check, from state.json's rejected images and the event log.
#pragma once

#include <string>
#include <vector>

#include "state/event_log.h"
#include "state/state_file.h"
#include "state/status.h"

namespace imgroot::state {

// Sentences; none when there is nothing to explain (no image given up is
// still on the host partition, and the running image is not marked bad).
std::vector<std::string> explain_rollback(const HostStatus& status, const StateFile& state,
                                          const std::vector<Event>& events);

}  // namespace imgroot::state
