// Helpers any unit test may use: a temporary directory, whole files as
// text, stat, and running a command line.
//
// Tests use this TempDir, not the library's imgroot::TempDir
// (system/temp_dir.h): that one is a fallible factory returning a Result, as
// library code wants, while a test wants a constructor that fails the test
// and a '/' for the paths inside. Both cannot be visible in one file either:
// the tests say `using namespace imgroot; using namespace imgroot::test;`,
// which would make every plain `TempDir` ambiguous.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "system/fd.h"

namespace imgroot::test {

inline void write_text(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path);
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

// stat(2) of 'path', which must exist.
inline struct stat stat_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st;
}

// lstat(2) of 'path', which must exist.
inline struct stat lstat_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st;
}

// A private directory in the system's temporary directory (or 'base'),
// removed with everything in it when the test ends.
class TempDir {
 public:
  TempDir() : TempDir(std::filesystem::temp_directory_path()) {}
  // In 'base': /dev/shm where a test makes thousands of small trees and
  // fsync need not reach a disk.
  explicit TempDir(const std::filesystem::path& base) {
    std::string tmpl = (base / "imgroot-test.XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);  // best effort: a leftover in /tmp harms nothing
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  // 'content' written to 'name' in here; its path.
  std::string write(const std::string& name, const std::string& content) const {
    write_text(*this / name, content);
    return *this / name;
  }

 private:
  std::string path_;
};

struct Ran {
  int status = -1;  // exit status, or 128 + signal
  std::string output;  // stdout and stderr together
};

// Run a shell command line, capturing what it prints.
inline Ran run(const std::string& command) {
  Ran r;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) r.output.append(buf, n);
  int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return r;
}

inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// A temporary directory standing for a host partition, open for the *_at
// calls, with 'files' in it (each holding its own name).
struct HostDir {
  TempDir dir;
  Fd fd;
  explicit HostDir(std::initializer_list<const char*> files = {}) {
    for (const char* f : files) write_text(dir / f, f);
    auto opened = Fd::open_dir(dir.path());
    REQUIRE(opened);
    fd = std::move(*opened);
  }
};

}  // namespace imgroot::test
