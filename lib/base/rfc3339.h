// Times as the state file and the event log write them: RFC 3339, UTC,
// whole seconds ("2026-11-21T20:38:21Z").
#pragma once

#include <cstdint>
#include <string>

namespace imgroot {

// 'seconds' since the epoch.
std::string format_rfc3339(std::int64_t seconds);
// Now, by CLOCK_REALTIME.
std::string now_rfc3339();

}  // namespace imgroot
