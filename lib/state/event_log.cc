#include "state/event_log.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/layout.h"
#include "base/lines.h"
#include "state/state_file.h"
#include "system/fd.h"
#include "system/file.h"

namespace imgroot::state {

using namespace host_files;

namespace {

Status write_all(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_errno(std::string("write ") + kStateDir + "/" + kEventLog);
    done += static_cast<std::size_t>(n);
  }
  return {};
}

// Whether the file open as 'fd' (readable; of 'size' bytes) ends in the middle of a line.
bool ends_torn(int fd, off_t size) {
  if (size == 0) return false;
  char last = '\n';
  return ::pread(fd, &last, 1, size - 1) == 1 && last != '\n';
}

Status rotate(int state_dir) {
  if (auto st = rename_at(state_dir, kEventLog, kEventLogRotated); !st) return st;
  return fsync_fd(state_dir, kStateDir);
}

}  // namespace

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
  const std::string line = event_to_json(event) + "\n";
  auto dir = open_or_make_dir_at(hostpart_dir, kStateDir, 0755);
  if (!dir) return std::unexpected(dir.error());
  // One writer at a time: the boot's record and a verb may append together.
  while (::flock(dir->get(), LOCK_EX) < 0)
    if (errno != EINTR) return fail_errno(std::string("lock ") + kStateDir);

  auto st = stat_at(dir->get(), kEventLog);
  if (!st) return std::unexpected(st.error());
  bool created = !*st;
  if (*st && static_cast<std::uint64_t>((*st)->st_size) + line.size() > cap) {
    if (auto rotated = rotate(dir->get()); !rotated) return rotated;
    created = true;
  }
  auto file = Fd::open_at(dir->get(), kEventLog, O_RDWR | O_APPEND | O_CREAT, 0644);
  if (!file) return std::unexpected(file.error());
  struct stat now {};
  if (::fstat(file->get(), &now) < 0) return fail_errno(std::string("stat ") + kEventLog);
  std::string data = ends_torn(file->get(), now.st_size) ? "\n" + line : line;
  if (auto w = write_all(file->get(), data); !w) return w;
  if (auto s = fsync_fd(file->get(), kEventLog); !s) return s;
  if (created) return fsync_fd(dir->get(), kStateDir);
  return {};
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
