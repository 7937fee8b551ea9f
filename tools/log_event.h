// Appending to the host partition's event log from a verb (state/event_log.h):
// a log that cannot be written is a warning on stderr, never the verb's failure.
#pragma once

#include "state/event_log.h"
#include "state/hostpart.h"

namespace imgroot::cli {

void log_event(const state::Hostpart& hostpart, state::Event event);

}  // namespace imgroot::cli
