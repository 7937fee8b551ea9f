// The advice appended to a failed namespace, loop attach or mount
// (lib/system/mount_hints.h).
#include <catch2/catch.hpp>
#include <string>

#include "system/mount_hints.h"

using namespace imgroot;

namespace {

Error error(int code) { return Error::from_errno("attach 'x.img' to a loop device", code); }

}  // namespace

TEST_CASE("each errno of a failed attach or mount gets its advice, and the way out when there is one",
          "[hints]") {
  const struct {
    int code;
    const char* way_out;
    const char* advice;
  } cases[] = {
      {EPERM, "", "; mounting an image needs root"},
      {EACCES, "pass --no-inspect", "; mounting an image needs root (or pass --no-inspect)"},
      {ENOENT, "", "; this machine has no loop devices (modprobe loop)"},
      {ENXIO, "pass --no-inspect", "; this machine has no loop devices (modprobe loop, or pass --no-inspect)"},
      {ENODEV, "", "; this kernel cannot mount that filesystem type"},
      {EIO, "", ""},
  };
  for (const auto& c : cases)
    CHECK(with_mount_hint(error(c.code), "mounting an image", c.way_out) ==
          error(c.code).message + c.advice);
}

TEST_CASE("only a permission error gets the root hint", "[hints]") {
  CHECK(with_root_hint(error(EPERM), "imgroot try") == error(EPERM).message + "; imgroot try needs root");
  CHECK(with_root_hint(error(ENOENT), "imgroot try") == error(ENOENT).message);
}
