// Mount tables in mountinfo format, through a memfd: the init's reader
// (read_mount_points, lib/system/mount.cc) and the CLI's, through libmount
// (MountTable, lib/state/mount_table.cc).
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "fuzz.h"
#include "state/mount_table.h"
#include "system/mount.h"

using namespace imgroot;
using imgroot::fuzz::check;

namespace {

// A file with these contents, readable by path (/proc/self/fd/N).
class MemFile {
 public:
  explicit MemFile(std::string_view text) : fd_(memfd_create("mountinfo", MFD_CLOEXEC)) {
    check(fd_ >= 0, "memfd_create works");
    check(::write(fd_, text.data(), text.size()) == static_cast<ssize_t>(text.size()), "write to the memfd");
  }
  ~MemFile() { ::close(fd_); }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;
  std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }

 private:
  int fd_;
};

// The kernel's escaping of a mount point: \ooo for space, tab, newline
// and backslash.
std::string escape(std::string_view path) {
  std::string out;
  for (char c : path) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\\') {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\%03o", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

void read_both(std::string_view text) {
  MemFile file(text);
  std::size_t lines = 0;
  for (std::size_t p = 0; p < text.size(); ++lines) {
    std::size_t nl = text.find('\n', p);
    p = nl == std::string_view::npos ? text.size() : nl + 1;
  }
  auto points = read_mount_points(file.path());
  check(bool(points), "a readable file is a table");
  check(points->size() <= lines, "at most one mount point a line");
  for (const auto& p : *points) check(!p.empty(), "no empty mount point");

  if (auto table = state::MountTable::read(file.path())) {
    auto entries = table->entries();
    check(bool(entries), "a table read has entries");
    (void)table->source_at("/");  // any answer is fine, only not a crash
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  read_both(text);

  // The input as a mount point the kernel wrote: both readers decode it.
  if (text.empty() || text.find('\0') != std::string_view::npos) return 0;
  std::string line = "36 35 98:0 / " + escape(text) + " rw,noatime - ext4 /dev/vda rw\n";
  MemFile file(line);
  auto points = read_mount_points(file.path());
  check(points && points->size() == 1 && points->front() == text, "read_mount_points decodes \\ooo");
  auto table = state::MountTable::read(file.path());
  check(bool(table), "libmount reads a well-formed line");
  auto entries = table->entries();
  check(entries && entries->size() == 1 && entries->front().target == text, "libmount decodes \\ooo");
  check(entries->front().source == "/dev/vda" && entries->front().fstype == "ext4", "libmount reads the source");
  return 0;
}
