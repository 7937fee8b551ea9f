// For the [root] tests: whether they can run on this machine, and a private
// mount namespace for what they mount.
#pragma once

#include <sched.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "system/mount.h"

namespace imgroot::test {

// Root and loop devices; without them a warning says which is missing and
// the caller skips the test.
inline bool have_root_and_loop_devices() {
  if (::geteuid() != 0) {
    WARN("skipped: this test needs root");
    return false;
  }
  if (::access("/dev/loop-control", F_OK) != 0) {
    WARN("skipped: this machine has no loop devices (/dev/loop-control)");
    return false;
  }
  return true;
}

// From here on, what this process mounts is private and goes away with it.
inline void enter_private_mount_namespace() {
  REQUIRE(::unshare(CLONE_NEWNS) == 0);
  REQUIRE(make_private_recursive("/"));
}

}  // namespace imgroot::test
