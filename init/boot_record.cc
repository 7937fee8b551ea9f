#include "boot_record.h"

#include "base/json_line.h"
#include "base/layout.h"
#include "base/rfc3339.h"
#include "system/fd.h"
#include "system/file.h"

namespace imgroot::init {

namespace {

constexpr const char* kBootId = "/proc/sys/kernel/random/boot_id";

std::string this_boot_id() {
  auto id = read_file(kBootId);
  if (!id) return {};
  std::string s = std::move(*id);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

BootRecord BootRecord::from(const BootConfig& config) {
  BootRecord r;
  r.loaded = config.image;
  if (config.revert) r.asked.emplace_back("revert");
  if (config.unstage) r.asked.emplace_back("unstage");
  for (const auto& file : config.broken) r.asked.push_back("broken=" + file);
  return r;
}

void BootRecord::add(const std::vector<LogLine>& lines) {
  for (const auto& line : lines) (line.level == Level::kInfo ? steps : warnings).push_back(line.text);
}

std::string boot_record_line(const BootRecord& r, const std::string& time,
                             const std::string& boot_id) {
  JsonLine j;
  j.add_string("time", time).add_string("event", kInitEvent);
  if (!boot_id.empty()) j.add_string("boot_id", boot_id);
  if (r.loaded) j.add_string("loaded", *r.loaded);
  if (!r.asked.empty()) j.add_list("asked", r.asked);
  if (!r.rotation.empty()) j.add_string("rotation", r.rotation);
  if (!r.chosen.empty()) j.add_string("chosen", r.chosen);
  if (!r.steps.empty()) j.add_list("steps", r.steps);
  if (r.fell_back > 0) j.add_int("fell_back", r.fell_back);
  if (!r.warnings.empty()) j.add_list("warnings", r.warnings);
  if (!r.image.empty()) j.add_string("image", r.image).add_string("fs", r.fs);
  if (!r.error.empty()) j.add_string("error", r.error);
  if (!r.rebooted.empty()) j.add_string("rebooted", r.rebooted);
  return j.str();
}

Status append_boot_record(int hostpart, const BootRecord& record, const std::string& time,
                          const std::string& boot_id) {
  auto had_dir = exists_at(hostpart, host_files::kStateDir);
  if (!had_dir) return std::unexpected(had_dir.error());
  auto dir = open_or_make_dir_at(hostpart, host_files::kStateDir, 0755);
  if (!dir) return std::unexpected(dir.error());
  if (!*had_dir) {
    if (auto st = fsync_fd(hostpart, "host partition directory"); !st) return st;
  }
  return append_line_at(dir->get(), host_files::kEventLog, boot_record_line(record, time, boot_id));
}

void write_boot_record(int hostpart, const BootRecord& record) {
  if (auto st = append_boot_record(hostpart, record, now_rfc3339(), this_boot_id()); !st)
    warn("this boot is not in the event log: " + st.error().message);
}

}  // namespace imgroot::init
