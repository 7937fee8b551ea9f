#include "state/event_log.h"

#include <sys/file.h>

#include "base/layout.h"
#include "base/lines.h"
#include "state/state_file.h"
#include "system/file.h"

namespace imgroot::state {

using namespace host_files;

std::string Event::text(const std::string& key) const {
  for (const auto& [k, v] : fields)
    if (k == key)
      if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return {};
}

std::vector<std::string> Event::list(const std::string& key) const {
  for (const auto& [k, v] : fields)
    if (k == key)
      if (const auto* l = std::get_if<std::vector<std::string>>(&v)) return *l;
  return {};
}

Status append_event(int hostpart_dir, Event event, std::uint64_t cap) {
  if (event.time.empty()) event.time = now_rfc3339();
  const std::string line = event_to_json(event);
  auto dir = open_or_make_dir_at(hostpart_dir, kStateDir, 0755);
  if (!dir) return std::unexpected(dir.error());
  // One writer at a time: the boot's record and a verb may append together.
  while (::flock(dir->get(), LOCK_EX) < 0)
    if (errno != EINTR) return fail_errno(std::string("lock ") + kStateDir);

  auto st = stat_at(dir->get(), kEventLog);
  if (!st) return std::unexpected(st.error());
  if (*st && static_cast<std::uint64_t>((*st)->st_size) + line.size() + 1 > cap) {
    // The new file's creation fsyncs the directory, the rename with it.
    if (auto rotated = rename_at(dir->get(), kEventLog, kEventLogRotated); !rotated) return rotated;
  }
  return append_line_at(dir->get(), kEventLog, line);
}

Result<std::vector<Event>> read_events(int hostpart_dir) {
  std::vector<Event> events;
  for (const char* name : {kEventLogRotated, kEventLog}) {
    auto text = read_file_at(hostpart_dir, std::string(kStateDir) + "/" + name);
    if (!text) {
      if (text.error().code == ENOENT) continue;
      return std::unexpected(text.error());
    }
    for (auto line : lines_of(*text)) {
      if (line.empty()) continue;
      // A line torn by a power cut does not parse: it is skipped.
      if (auto e = event_from_json(std::string(line))) events.push_back(std::move(*e));
    }
  }
  return events;
}

std::string event_to_text(const Event& e) {
  std::string out = e.time + " " + e.type;
  for (const auto& [key, value] : e.fields) {
    out += " " + key + "=";
    if (const auto* s = std::get_if<std::string>(&value))
      out += s->find(' ') == std::string::npos ? *s : "'" + *s + "'";
    else if (const auto* n = std::get_if<std::int64_t>(&value))
      out += std::to_string(*n);
    else if (const auto* b = std::get_if<bool>(&value))
      out += *b ? "yes" : "no";
    else {
      const auto& l = std::get<std::vector<std::string>>(value);
      out += "[";
      for (std::size_t i = 0; i < l.size(); ++i) out += (i ? ", " : "") + l[i];
      out += "]";
    }
  }
  return out;
}

}  // namespace imgroot::state
