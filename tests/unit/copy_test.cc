#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>

#include "stage/copy.h"
#include "stage_support.h"
#include "system/fd.h"

using namespace imgroot;
using namespace imgroot::test;

namespace {

// 1 MiB hole, "imgroot", a hole up to 4 MiB, "end": 4194307 bytes whose
// SHA-256 was computed independently (Python's hashlib).
constexpr const char* kSparseSha =
    "34eef15841e0944a7886e4bfdad18d3de6f6f644c49f4e4bd6d9dd4034ebf92f";

void make_sparse(const std::string& path) {
  auto fd = Fd::open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  REQUIRE(fd);
  REQUIRE(::pwrite(fd->get(), "imgroot", 7, 1 << 20) == 7);
  REQUIRE(::pwrite(fd->get(), "end", 3, 4 << 20) == 3);
}

struct Copy {
  Fd source;
  Fd dest;
};

Copy open_pair(const std::string& from, const std::string& to) {
  auto source = Fd::open(from, O_RDONLY);
  auto dest = Fd::open(to, O_RDWR | O_CREAT | O_TRUNC, 0644);
  REQUIRE(source);
  REQUIRE(dest);
  return {std::move(*source), std::move(*dest)};
}

}  // namespace

TEST_CASE("a copy hashes to the SHA-256 of its content", "[copy]") {
  TempDir dir;
  write_text(dir / "abc", "abc");
  auto [source, dest] = open_pair(dir / "abc", dir / "out");
  stage::CopyControl control;
  control.allow_reflink = false;  // a reflink is not hashed (on a btrfs /tmp)
  auto copied = stage::copy_with_hash(source.get(), dest.get(), "out", control);
  REQUIRE(copied);
  CHECK(copied->sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(copied->size == 3);
  CHECK(read_text(dir / "out") == "abc");
}

TEST_CASE("holes count as zeros in the hash and stay holes in the copy", "[copy]") {
  TempDir dir;
  make_sparse(dir / "sparse");
  auto [source, dest] = open_pair(dir / "sparse", dir / "out");
  stage::CopyControl control;
  control.allow_reflink = false;
  auto copied = stage::copy_with_hash(source.get(), dest.get(), "out", control);
  REQUIRE(copied);
  CHECK(copied->sha256 == kSparseSha);
  CHECK_FALSE(copied->reflinked);
  CHECK(copied->size == 4194307);
  CHECK(read_text(dir / "out") == read_text(dir / "sparse"));
  auto out = stat_of(dir / "out");
  CHECK(out.st_size == 4194307);
  // Two data blocks, not 4 MiB: at most a few 4 KiB blocks are allocated.
  CHECK(out.st_blocks * 512 <= 64 * 1024);
  CHECK(copied->data_bytes < 64 * 1024);
}

TEST_CASE("a file that is one big hole copies as a hole of the same size", "[copy]") {
  TempDir dir;
  {
    auto fd = Fd::open(dir / "empty", O_WRONLY | O_CREAT, 0644);
    REQUIRE(fd);
    REQUIRE(::ftruncate(fd->get(), 16 << 20) == 0);
  }
  auto [source, dest] = open_pair(dir / "empty", dir / "out");
  stage::CopyControl control;
  control.allow_reflink = false;
  auto copied = stage::copy_with_hash(source.get(), dest.get(), "out", control);
  REQUIRE(copied);
  // SHA-256 of 16 MiB of zeros.
  CHECK(copied->sha256 == "080acf35a507ac9849cfcba47dc2ad83e01b75663a516279c8b9d243b719643e");
  CHECK(stat_of(dir / "out").st_size == 16 << 20);
  CHECK(stat_of(dir / "out").st_blocks == 0);
}

TEST_CASE("hashing a file by reading it gives the same SHA-256 as copying it", "[copy]") {
  TempDir dir;
  make_sparse(dir / "sparse");
  auto fd = Fd::open(dir / "sparse", O_RDONLY);
  REQUIRE(fd);
  auto hashed = stage::hash_file(fd->get());
  REQUIRE(hashed);
  CHECK(*hashed == kSparseSha);
}

TEST_CASE("progress reports reach the total", "[copy]") {
  TempDir dir;
  make_sparse(dir / "sparse");
  auto [source, dest] = open_pair(dir / "sparse", dir / "out");
  std::uint64_t last = 0, total = 0;
  stage::CopyControl control;
  control.progress = [&](std::uint64_t d, std::uint64_t t) {
    CHECK(d >= last);
    last = d;
    total = t;
  };
  REQUIRE(stage::copy_with_hash(source.get(), dest.get(), "out", control));
  CHECK(total == 4194307);
  CHECK(last == total);
}

TEST_CASE("a raised cancel flag stops the copy with an error", "[copy]") {
  TempDir dir;
  make_sparse(dir / "sparse");
  auto [source, dest] = open_pair(dir / "sparse", dir / "out");
  volatile std::sig_atomic_t cancel = 1;
  stage::CopyControl control;
  control.cancel = &cancel;
  control.allow_reflink = false;  // an unhashed reflink has nothing to cancel
  auto copied = stage::copy_with_hash(source.get(), dest.get(), "out", control);
  REQUIRE_FALSE(copied);
  CHECK(copied.error().message == "interrupted by a signal");
}

TEST_CASE("a copy of many blocks with an unaligned hole and tail is exact", "[copy]") {
  TempDir dir;
  {
    // 9 MiB + 5 bytes of data, a hole to 20 MiB, then 5 MiB + 4321 bytes:
    // more blocks than the writer's ring holds, none ending on a boundary.
    auto fd = Fd::open(dir / "image", O_WRONLY | O_CREAT, 0644);
    REQUIRE(fd);
    std::string data(9 << 20, '\0');
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 2654435761u) >> 13);
    REQUIRE(::pwrite(fd->get(), data.data(), data.size(), 0) == 9 << 20);
    const std::size_t last = (5 << 20) + 4321;
    REQUIRE(::pwrite(fd->get(), data.data() + 7, last, 20 << 20) == static_cast<ssize_t>(last));
    REQUIRE(::pwrite(fd->get(), "tail!", 5, 9 << 20) == 5);
  }
  auto [source, dest] = open_pair(dir / "image", dir / "out");
  stage::CopyControl control;
  control.allow_reflink = false;
  auto copied = stage::copy_with_hash(source.get(), dest.get(), "out", control);
  REQUIRE(copied);
  CHECK_FALSE(copied->reflinked);
  CHECK(read_text(dir / "out") == read_text(dir / "image"));
  CHECK(run("sha256sum " + shell_quote(dir / "image")).output.starts_with(copied->sha256));
  CHECK(stat_of(dir / "out").st_size == stat_of(dir / "image").st_size);
}

TEST_CASE("a failed write ends the copy with the writer's error", "[copy]") {
  TempDir dir;
  make_sparse(dir / "sparse");
  write_text(dir / "out", "");
  auto source = Fd::open(dir / "sparse", O_RDONLY);
  auto read_only = Fd::open(dir / "out", O_RDONLY);
  REQUIRE(source);
  REQUIRE(read_only);
  stage::CopyControl control;
  control.allow_reflink = false;
  auto copied = stage::copy_with_hash(source->get(), read_only->get(), "out", control);
  REQUIRE_FALSE(copied);
  CHECK(copied.error().code == EBADF);
  CHECK(copied.error().message == "write 'out': Bad file descriptor");
}

TEST_CASE("a copy that is not a reflink is hashed whether or not a reflink would be", "[copy]") {
  // Here (tmpfs, ext4) FICLONE is refused: the fallback copy is always hashed,
  // with or without hash_reflink. The reflink itself is tested on btrfs and
  // xfs in stage_root_test.cc.
  TempDir dir;
  make_sparse(dir / "sparse");
  for (bool hash_reflink : {false, true}) {
    auto [source, dest] = open_pair(dir / "sparse", dir / "out");
    stage::CopyControl control;
    control.hash_reflink = hash_reflink;
    auto copied = stage::copy_with_hash(source.get(), dest.get(), "out", control);
    REQUIRE(copied);
    if (copied->reflinked) {
      WARN("skipped: the temporary directory can reflink");
      return;
    }
    CHECK(copied->sha256 == kSparseSha);
  }
}
