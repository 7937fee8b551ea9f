// Which paths may be in the host identity set.
#include <array>

#include "base/layout.h"
#include "identity/identity.h"

namespace imgroot::identity {

namespace {

struct Refused {
  const char* top;
  const char* why;
};

// Made afresh at every boot, or not part of the root at all.
constexpr std::array kRefused{
    Refused{"proc", "is made by the kernel at every boot"},
    Refused{"sys", "is made by the kernel at every boot"},
    Refused{"dev", "is made by the kernel at every boot"},
    Refused{"run", "is made empty at every boot"},
    Refused{root_paths::kHostpart + 1 /* without its "/" */, "is the host partition itself, which every image already sees"},
};

}  // namespace

Result<std::string> set_path(const std::string& path) {
  if (!path.starts_with("/"))
    return fail(quoted(path) + " is not an absolute path; name it as the running system sees it, "
                "e.g. '/etc/hostname'");
  std::string relative;
  size_t at = 1;
  while (at <= path.size()) {
    size_t end = path.find('/', at);
    if (end == std::string::npos) end = path.size();
    std::string part = path.substr(at, end - at);
    at = end + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..")
      return fail(quoted(path) + " contains '..'; name it by its plain absolute path");
    relative += (relative.empty() ? "" : "/") + part;
  }
  if (relative.empty())
    return fail(quoted(path) + " is the whole root; name the files and directories that make "
                "this host different, e.g. '/etc/hostname'");
  const std::string top = relative.substr(0, relative.find('/'));
  for (const auto& r : kRefused)
    if (top == r.top)
      return fail(quoted(path) + " is under /" + top + ", which " + r.why +
                  "; capture the files under /etc or /var that it comes from instead");
  return relative;
}

}  // namespace imgroot::identity
