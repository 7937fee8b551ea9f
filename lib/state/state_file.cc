#include "state/state_file.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "base/layout.h"
#include "base/names.h"
#include "state/known_bad.h"
#include "system/file.h"

namespace imgroot::state {

using namespace host_files;

namespace {

constexpr EnumName<Assessment> kAssessmentNames[] = {
    {Assessment::kNone, "unassessed"}, {Assessment::kGood, "good"}, {Assessment::kBad, "bad"}};

}  // namespace

const char* assessment_name(Assessment a) { return enum_name(kAssessmentNames, a, "unassessed"); }

std::optional<Assessment> parse_assessment(std::string_view name) {
  return enum_value(kAssessmentNames, name);
}

bool ImageRecord::describes(const struct stat& st) const {
  return inode == static_cast<std::uint64_t>(st.st_ino) &&
         size == static_cast<std::uint64_t>(st.st_size);
}

ImageRecord* StateFile::find(const struct stat& st) {
  for (auto& r : images)
    if (r.describes(st)) return &r;
  return nullptr;
}

const ImageRecord* StateFile::find(const struct stat& st) const {
  return const_cast<StateFile*>(this)->find(st);
}

Result<StateFile> load_state(int dir) {
  auto state_dir = stat_at(dir, kStateDir);
  if (!state_dir) return std::unexpected(state_dir.error());
  if (!*state_dir) return StateFile{};
  auto text = read_file_at(dir, std::string(kStateDir) + "/" + host_files::kStateFile);
  if (!text) {
    if (text.error().code == ENOENT) return StateFile{};
    return std::unexpected(text.error());
  }
  auto state = state_from_json(*text);
  if (!state)
    return std::unexpected(std::move(state.error())
                               .context(std::string("read ") + kStateDir + "/" + host_files::kStateFile));
  return state;
}

Status save_state(int dir, StateFile state, const std::optional<struct stat>& also_keep) {
  if (auto noted = remember_broken(dir, state); !noted) return std::unexpected(noted.error());
  // Keep only the records of files that are one of the images now.
  std::vector<struct stat> present;
  if (also_keep) present.push_back(*also_keep);
  for (const char* name : {kCurrent, kNew, kOld, kBroken}) {
    auto st = stat_at(dir, name);
    if (!st) return std::unexpected(st.error());
    if (*st) present.push_back(**st);
  }
  std::erase_if(state.images, [&](const ImageRecord& r) {
    for (const auto& st : present)
      if (r.describes(st)) return false;
    return true;
  });

  auto state_dir = open_or_make_dir_at(dir, kStateDir, 0755);
  if (!state_dir) return std::unexpected(state_dir.error());
  if (auto st = write_file_atomic_at(state_dir->get(), host_files::kStateFile, state_to_json(state)); !st)
    return st;
  // A newly created imgroot/ must survive a crash too.
  return fsync_fd(dir, "host partition directory");
}

ImageRecord record_for(const struct stat& st) {
  ImageRecord r;
  r.inode = static_cast<std::uint64_t>(st.st_ino);
  r.size = static_cast<std::uint64_t>(st.st_size);
  r.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  return r;
}

}  // namespace imgroot::state
