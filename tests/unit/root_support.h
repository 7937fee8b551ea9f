// For the [root] tests: whether they can run on this machine, a private
// mount namespace for what they mount, and what they look at afterwards
// (image hashes, loop devices) or start in the background.
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "stage_support.h"
#include "system/mount.h"
#include "test_support.h"

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

// have_root_and_loop_devices, then (when it holds) a private mount namespace.
inline bool can_loop_mount_privately() {
  if (!have_root_and_loop_devices()) return false;
  enter_private_mount_namespace();
  return true;
}

// The SHA-256 of the file at 'path', in hex.
inline std::string sha256(const std::string& path) {
  auto r = run("sha256sum < " + shell_quote(path));
  REQUIRE(r.status == 0);
  return r.output.substr(0, 64);
}

// Loop devices backed by 'image', each name followed by a space (none
// once imgroot is done).
inline std::string loops_of(const std::string& image) {
  std::string found;
  for (const auto& e : std::filesystem::directory_iterator("/sys/block")) {
    const std::string backing = e.path().string() + "/loop/backing_file";
    if (exists(backing) && read_text(backing).starts_with(image))
      found += e.path().filename().string() + " ";
  }
  return found;
}

// losetup -a names no loop device backed by the image, within a few
// seconds (the kernel tears a namespace down after its last process).
inline bool detached(const std::string& image) {
  for (int i = 0; i < 500; ++i) {
    if (loops_of(image).empty() && run("losetup -a").output.find(image) == std::string::npos)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// The imgroot command line 'command(image)' run on an image in 'dir' of each
// filesystem type imgroot does not boot: it exits 1 saying
// 'message(image, type)', before mounting or attaching anything.
template <class Command, class Message>
void check_refuses_foreign_images(const TempDir& dir, Command command, Message message) {
  for (const std::string type : {"vfat", "minix"}) {
    const std::string image = dir / (type + ".img");
    make_foreign_image(image, type);
    const std::string mounts = read_text("/proc/self/mountinfo");
    auto r = run(std::string(IMGROOT_BINARY) + " " + command(image));
    CHECK(r.status == 1);
    CHECK(r.output == message(image, type));
    CHECK(read_text("/proc/self/mountinfo") == mounts);
    CHECK(detached(image));
  }
}

// The built imgroot started with 'args', its stdin, stdout and stderr on
// /dev/null; the caller waits for the pid.
inline pid_t spawn_imgroot(const std::vector<std::string>& args) {
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    std::vector<char*> argv{const_cast<char*>(IMGROOT_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(IMGROOT_BINARY, argv.data());
    ::_exit(127);
  }
  return pid;
}

}  // namespace imgroot::test
