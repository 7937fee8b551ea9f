// imgroot-init's voice: "<level>imgroot-init: ..." lines to /dev/kmsg, and
// the same line on the console when the kernel would not print it there.
#pragma once

#include <string>

namespace imgroot::init {

enum class Level { kError = 3, kWarning = 4, kInfo = 6 };

// After /dev and /proc are mounted: take /dev/console as stdin/stdout/stderr
// (as PID 1; a service keeps the ones it was given), open /dev/kmsg and lift
// its rate limit for as long as we run (a boot that goes wrong says more
// than ten lines, and those are the ones that matter).
void open_log(bool take_console = true);
// Put the kmsg rate limit back as the kernel had it; before exec of the real init.
void close_log();

void log(Level level, const std::string& message);
inline void info(const std::string& m) { log(Level::kInfo, m); }
inline void warn(const std::string& m) { log(Level::kWarning, m); }
inline void error(const std::string& m) { log(Level::kError, m); }

// Milliseconds on the monotonic clock, for "... in N ms" lines.
long long now_ms();

}  // namespace imgroot::init
