// Helpers for the diff tests: trees of files with exact modes, and the
// report of comparing two of them.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "diff/text.h"
#include "diff/walk.h"
#include "stage_support.h"
#include "system/fd.h"

namespace imgroot::test {

// A file (parents created 0755) with exactly 'mode'.
inline void file(const std::string& path, const std::string& content, mode_t mode = 0644) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  write_text(path, content);
  ::chmod(path.c_str(), mode);
}

inline void dir(const std::string& path, mode_t mode = 0755) {
  std::filesystem::create_directories(path);
  ::chmod(path.c_str(), mode);
}

inline void symlink(const std::string& target, const std::string& path) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::filesystem::create_symlink(target, path);
}

inline bool set_xattr(const std::string& path, const std::string& name, const std::string& value) {
  return ::lsetxattr(path.c_str(), name.c_str(), value.data(), value.size(), 0) == 0;
}

class TextSink : public diff::Sink {
 public:
  Status entry(const diff::Entry& e) override {
    text += diff::format_entry(e) + "\n";
    return {};
  }
  std::string text;
};

// The text report of comparing two directories, summary line included.
inline std::string report(const std::string& a, const std::string& b,
                          const diff::Options& options = {}) {
  auto fa = Fd::open(a, O_RDONLY | O_DIRECTORY);
  auto fb = Fd::open(b, O_RDONLY | O_DIRECTORY);
  if (!fa || !fb) throw std::runtime_error("cannot open the trees");
  TextSink sink;
  auto summary = diff::compare_trees(fa->get(), fb->get(), options, sink);
  if (!summary) throw std::runtime_error(summary.error().message);
  return sink.text + diff::format_summary(*summary) + "\n";
}

}  // namespace imgroot::test
