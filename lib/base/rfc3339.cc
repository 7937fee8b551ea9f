#include "base/rfc3339.h"

#include <ctime>

namespace imgroot {

std::string format_rfc3339(std::int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm {};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string now_rfc3339() {
  struct timespec now {};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return format_rfc3339(static_cast<std::int64_t>(now.tv_sec));
}

}  // namespace imgroot
