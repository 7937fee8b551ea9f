// The initramfs archive writer (lib/initramfs/cpio.cc), checked by reading
// what it wrote with a newc reader of its own, and the ELF check
// (lib/initramfs/elf.cc) on the file contents. The input is a list of
// entries to add.
#include <sys/stat.h>

#include <fuzzer/FuzzedDataProvider.h>

#include <map>
#include <string>
#include <vector>

#include "fuzz.h"
#include "initramfs/cpio.h"
#include "initramfs/elf.h"

using namespace imgroot;
using namespace imgroot::initramfs;
using imgroot::fuzz::check;

namespace {

constexpr std::string_view kTrailer = "TRAILER!!!";

struct Record {
  std::uint32_t mode = 0, filesize = 0, namesize = 0, ino = 0, rdev_major = 0, rdev_minor = 0;
  std::string name, data;
};

std::uint32_t hex8(std::string_view text) {
  std::uint32_t v = 0;
  for (char c : text) {
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    check(d >= 0, "header fields are upper-case hex");
    v = v * 16 + static_cast<std::uint32_t>(d);
  }
  return v;
}

// The newc format (the kernel's buffer-format.rst), read without the
// writer's help: every record and its offsets checked.
std::vector<Record> read_newc(std::string_view archive) {
  std::vector<Record> records;
  std::size_t pos = 0;
  for (;;) {
    check(pos % 4 == 0, "records start 4-byte aligned");
    check(archive.size() - pos >= 110, "a header fits");
    check(archive.substr(pos, 6) == "070701", "the newc magic");
    Record r;
    auto field = [&](int i) { return hex8(archive.substr(pos + 6 + 8 * static_cast<std::size_t>(i), 8)); };
    r.ino = field(0);
    r.mode = field(1);
    check(field(2) == 0 && field(3) == 0, "root owns everything");
    r.filesize = field(6);
    r.rdev_major = field(9);
    r.rdev_minor = field(10);
    r.namesize = field(11);
    check(field(12) == 0, "newc has no checksum");
    check(r.namesize >= 2 && archive.size() - pos - 110 >= r.namesize, "the name fits");
    r.name = std::string(archive.substr(pos + 110, r.namesize - 1));
    check(archive[pos + 110 + r.namesize - 1] == '\0', "the name ends with its NUL");
    check(r.name.find('\0') == std::string::npos, "one NUL, at the end");
    std::size_t data_at = (pos + 110 + r.namesize + 3) / 4 * 4;
    check(data_at <= archive.size() && archive.size() - data_at >= r.filesize, "the data fits");
    r.data = std::string(archive.substr(data_at, r.filesize));
    pos = (data_at + r.filesize + 3) / 4 * 4;
    check(pos <= archive.size(), "the padding fits");
    bool trailer = r.name == kTrailer;
    records.push_back(std::move(r));
    if (trailer) break;
  }
  check(pos == archive.size(), "nothing after the trailer");
  return records;
}

bool valid_name(const std::string& name) {
  if (name.empty() || name.front() == '/' || name.back() == '/') return false;
  std::size_t p = 0;
  for (;;) {
    std::size_t end = name.find('/', p);
    std::string_view part = std::string_view(name).substr(p, end == std::string::npos ? end : end - p);
    if (part.empty() || part == "." || part == "..") return false;
    if (end == std::string::npos) return true;
    p = end + 1;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  CpioArchive archive;
  // What was added, by the path as the archive stores it (no leading '/').
  std::map<std::string, std::pair<std::uint32_t, std::string>> added;
  while (in.remaining_bytes() > 0) {
    const int kind = in.ConsumeIntegralInRange(0, 3);
    std::string path = in.ConsumeRandomLengthString(64);
    const mode_t perm = in.ConsumeIntegralInRange<mode_t>(0, 07777);
    Status st;
    std::string content;
    mode_t type = 0;
    switch (kind) {
      case 0:
        type = S_IFDIR;
        st = archive.add_directory(path, perm);
        break;
      case 1:
        type = S_IFREG;
        content = in.ConsumeRandomLengthString(256);
        (void)elf_needs_interpreter(content);  // any answer, only no crash
        st = archive.add_file(path, content, perm);
        break;
      case 2:
        type = S_IFLNK;
        content = in.ConsumeRandomLengthString(64);
        st = archive.add_symlink(path, content);
        break;
      default:
        type = S_IFCHR;
        st = archive.add_char_device(path, perm, in.ConsumeIntegral<std::uint8_t>(), in.ConsumeIntegral<std::uint8_t>());
        break;
    }
    if (!st) {
      check(!st.error().message.empty(), "a refused entry says why");
      continue;
    }
    std::string key;
    for (std::size_t p = 0; p < path.size();) {
      std::size_t end = std::min(path.find('/', p), path.size());
      if (end > p) key += (key.empty() ? "" : "/") + path.substr(p, end - p);
      p = end + 1;
    }
    const std::uint32_t mode = type | (type == S_IFLNK ? 0777u : perm);
    added[key] = {mode, content};  // a directory over an implied one takes its mode
  }

  const auto mtime = in.ConsumeIntegral<std::uint32_t>();
  auto bytes = archive.serialize(mtime);
  check(bool(bytes), "an archive of accepted entries serializes");
  auto records = read_newc(*bytes);
  check(records.size() == archive.size() + 1, "one record per entry and the trailer");
  std::map<std::string, const Record*> by_name;
  for (std::size_t i = 0; i + 1 < records.size(); ++i) {
    const Record& r = records[i];
    check(r.name != kTrailer, "exactly one trailer, at the end");
    check(valid_name(r.name), "names are relative, without empty, '.' or '..' components");
    check(r.ino == i + 1, "inodes count up from 1");
    check(by_name.emplace(r.name, &r).second, "each name once");
    if (S_ISLNK(r.mode)) check(!r.data.empty() && r.data.find('\0') == std::string::npos, "a symlink target is a C string");
    auto slash = r.name.rfind('/');
    if (slash != std::string::npos) {
      auto parent = by_name.find(r.name.substr(0, slash));
      check(parent != by_name.end() && S_ISDIR(parent->second->mode), "a parent directory comes first");
    }
  }
  for (const auto& [name, want] : added) {
    auto r = by_name.find(name);
    check(r != by_name.end(), "every added entry is in the archive");
    if (S_ISDIR(want.first) && !S_ISDIR(r->second->mode)) continue;
    check(r->second->data == want.second, "contents are kept");
    if (!S_ISDIR(want.first)) check(r->second->mode == want.first, "modes are kept");
  }
  return 0;
}
