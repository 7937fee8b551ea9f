// A private temporary directory (mode 0700) removed with everything in it
// when the handle goes away.
#pragma once

#include <string>

#include "base/error.h"

namespace imgroot {

class TempDir {
 public:
  // mkdtemp(base/prefix.XXXXXX).
  static Result<TempDir> create(const std::string& base, const std::string& prefix);
  TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  TempDir& operator=(TempDir&&) = delete;
  TempDir(const TempDir&) = delete;
  ~TempDir();

  const std::string& path() const { return path_; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

}  // namespace imgroot
