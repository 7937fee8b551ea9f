// The JSON form of `imgroot host show --json` (docs/host-identity.md); the
// one file of lib/identity that adapts nlohmann::json.
#include <nlohmann/json.hpp>

#include "base/layout.h"
#include "identity/identity.h"
#include "state/state_file.h"

namespace imgroot::identity {

namespace {

using nlohmann::json;

constexpr int kShowSchema = 1;

json entry_json(const ShownEntry& e, bool compared) {
  const bool dir = S_ISDIR(e.st.st_mode);
  json j = {{"path", e.path},
            {"type", entry_type(e)},
            {"mode", entry_mode(e)},
            {"uid", e.st.st_uid},
            {"gid", e.st.st_gid},
            {"user", e.user.empty() ? json(nullptr) : json(e.user)},
            {"group", e.group.empty() ? json(nullptr) : json(e.group)},
            {"size", dir ? json(nullptr) : json(e.st.st_size)},
            {"mtime", state::format_rfc3339(static_cast<std::int64_t>(e.st.st_mtim.tv_sec))},
            {"target", S_ISLNK(e.st.st_mode) ? json(e.target) : json(nullptr)}};
  j["here"] = compared ? json(here_name(e.here)) : json(nullptr);
  j["differences"] = compared && e.here == Here::kDiffers ? json(e.differences) : json(nullptr);
  j["error"] = e.error.empty() ? json(nullptr) : json(e.error);
  return j;
}

}  // namespace

std::string shown_to_json(const Shown& s) {
  json entries = json::array();
  int files = 0;
  for (const auto& e : s.entries) {
    entries.push_back(entry_json(e, s.compared_with.has_value()));
    if (!S_ISDIR(e.st.st_mode)) ++files;
  }
  json j = {{"schema", kShowSchema},
            {"hostpart", s.hostpart},
            {"directory", host_files::kHostIdentityDir},
            {"compared_with", s.compared_with ? json(*s.compared_with) : json(nullptr)},
            {"files", files},
            {"entries", entries}};
  // Paths come from the filesystem and need not be UTF-8: never throw on them.
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace imgroot::identity
