// imgroot try on a small ext4 image holding a static busybox, made with
// mkfs.ext4 -d. Needs root, loop devices and /bin/busybox (busybox-static);
// skips with a message otherwise. Each test case runs in its own private
// mount namespace, so the mount table it compares is its own.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "root_support.h"
#include "stage_support.h"
#include "system/mount.h"

using namespace imgroot;
using namespace imgroot::test;

namespace {

bool can_try() {
  if (!have_root_and_loop_devices()) return false;
  if (::access("/bin/busybox", X_OK) != 0) {
    WARN("skipped: no /bin/busybox (busybox-static) to build the test image with");
    return false;
  }
  enter_private_mount_namespace();
  return true;
}

struct Image {
  TempDir tmp;
  std::string path = tmp / "busybox.img";
  std::string share = tmp / "share";  // bound on /host
  Image() {
    const std::string root = tmp / "root";
    std::filesystem::create_directories(root + "/bin");
    std::filesystem::create_directories(root + "/etc");
    std::filesystem::copy_file("/bin/busybox", root + "/bin/busybox");
    for (const char* applet : {"sh", "cat", "echo", "sleep", "ls", "kill", "hostname", "touch",
                               "mount", "readlink", "wc", "poweroff"})
      std::filesystem::create_symlink("busybox", root + "/bin/" + applet);
    write_text(root + "/etc/motd", "from the image\n");
    // For --boot: an init that waits to be asked to halt (SIGRTMIN+3 is 37
    // with glibc), and one that powers off at once.
    std::filesystem::create_directories(root + "/sbin");
    write_text(root + "/sbin/init",
               "#!/bin/sh\n"
               "echo \"init pid $$ container=$container\"\n"
               "trap 'echo halting; poweroff -f' 37\n"
               "sleep 100 & [ -d /host ] && touch /host/started; wait\n"
               "exit 3\n");
    write_text(root + "/sbin/quick-init", "#!/bin/sh\necho \"quick pid $$\"\npoweroff -f\n");
    write_text(root + "/sbin/mounts-init", "#!/bin/sh\ncat /proc/self/mounts\npoweroff -f\n");
    write_text(root + "/sbin/stubborn-init",
               "#!/bin/sh\ntrap '' 37\nsleep 100 & touch /host/started; wait\n");
    for (const char* init : {"init", "quick-init", "mounts-init", "stubborn-init"})
      ::chmod((root + "/sbin/" + init).c_str(), 0755);
    auto r = run("mkfs.ext4 -q -F -b 4096 -d " + shell_quote(root) + " " + shell_quote(path) +
                 " 16M");
    REQUIRE(r.status == 0);
    std::filesystem::create_directory(share);
  }
};

Ran try_image(const Image& img, const std::string& options, const std::string& command) {
  return run(std::string(IMGROOT_BINARY) + " try " + options + " " + shell_quote(img.path) +
             " -- " + command);
}

// Wait for the command to write /host/started.
bool started(const Image& img) {
  for (int i = 0; i < 1000; ++i) {
    if (exists(img.share + "/started")) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// imgroot try in the background with the share bound on /host, running
// 'command' (or, with 'boot', booting 'init'), once that has written
// /host/started; its pid.
pid_t start_try(const Image& img, const std::string& command, bool boot = false,
                const std::string& init = "/sbin/init") {
  const std::string bind = img.share + ":/host";
  const pid_t pid =
      boot ? spawn_imgroot({"try", "--boot", "--init", init, "--bind", bind, img.path})
           : spawn_imgroot({"try", "--bind", bind, img.path, "--", "/bin/sh", "-c", command});
  REQUIRE(started(img));
  return pid;
}

pid_t only_child(pid_t pid) {
  const std::string p = std::to_string(pid);
  const std::string children = read_text("/proc/" + p + "/task/" + p + "/children");
  return static_cast<pid_t>(std::stol(children));
}

// The processes under imgroot try 'pid': its PID 1 and the command under it.
std::pair<pid_t, pid_t> init_and_command(pid_t pid) {
  const pid_t init = only_child(pid);
  return {init, only_child(init)};
}

int exit_status(pid_t pid) {
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool gone(pid_t pid) {
  for (int i = 0; i < 500; ++i) {
    if (!exists("/proc/" + std::to_string(pid))) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// Whether the mount on / in 'mounts' (/proc/self/mounts) has 'option'.
bool root_has_option(const std::string& mounts, const std::string& option) {
  std::istringstream lines(mounts);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string device, point, type, options;
    if (fields >> device >> point >> type >> options && point == "/")
      return ("," + options + ",").find("," + option + ",") != std::string::npos;
  }
  FAIL("no mount on / in:\n" + mounts);
  return false;
}

}  // namespace

TEST_CASE("a command's writes into / land on the overlay and the image stays byte-identical",
          "[root][try]") {
  if (!can_try()) return;
  Image img;
  const std::string before = sha256(img.path);
  const std::string mounts = read_text("/proc/self/mountinfo");
  auto r = try_image(img, "",
                     "/bin/sh -c 'echo written > /new; echo more >> /etc/motd; cat /new /etc/motd'");
  CHECK(r.status == 0);
  CHECK(r.output == "written\nfrom the image\nmore\n");
  CHECK(sha256(img.path) == before);
  CHECK(detached(img.path));
  CHECK(read_text("/proc/self/mountinfo") == mounts);
  // A second run starts from the image again.
  CHECK(try_image(img, "", "cat /etc/motd").output == "from the image\n");
}

TEST_CASE("try exits with the command's status, 128+N when signal N killed it", "[root][try]") {
  if (!can_try()) return;
  Image img;
  CHECK(try_image(img, "", "/bin/sh -c 'exit 7'").status == 7);
  CHECK(try_image(img, "", "/bin/sh -c 'kill -KILL $$'").status == 128 + SIGKILL);
  CHECK(detached(img.path));
}

TEST_CASE("the command runs as the child of PID 1 in fresh namespaces", "[root][try]") {
  if (!can_try()) return;
  Image img;
  auto r = try_image(img, "--hostname trial",
                     "/bin/sh -c 'echo $$; hostname; ls /dev; touch /sys/x || echo sys ro; "
                     "cat /proc/1/status | grep -c imgroot'");
  CHECK(r.status == 0);
  CHECK(r.output.starts_with("2\ntrial\n"));
  for (const char* dev : {"null", "zero", "full", "random", "urandom", "tty", "pts", "ptmx", "shm"})
    CHECK(r.output.find(std::string("\n") + dev + "\n") != std::string::npos);
  CHECK(r.output.find("sys ro") != std::string::npos);
}

TEST_CASE("with --net none the command sees only lo", "[root][try]") {
  if (!can_try()) return;
  Image img;
  auto r = try_image(img, "--net none", "ls /sys/class/net");
  CHECK(r.status == 0);
  CHECK(r.output == "lo\n");
}

TEST_CASE("a --bind host directory shows inside, writable", "[root][try]") {
  if (!can_try()) return;
  Image img;
  write_text(img.share + "/in", "from the host\n");
  auto r = try_image(img, "--bind " + shell_quote(img.share + ":/mnt/deep/host"),
                     "/bin/sh -c 'cat /mnt/deep/host/in; echo back > /mnt/deep/host/out'");
  CHECK(r.status == 0);
  CHECK(r.output == "from the host\n");
  CHECK(read_text(img.share + "/out") == "back\n");
}

TEST_CASE("nothing stays mounted or attached when imgroot is killed with SIGKILL",
          "[root][try]") {
  if (!can_try()) return;
  Image img;
  const std::string before = sha256(img.path);
  const std::string mounts = read_text("/proc/self/mountinfo");
  const pid_t pid = start_try(img, "echo x > /written; touch /host/started; sleep 100");
  const auto [init, command] = init_and_command(pid);
  REQUIRE(::kill(pid, SIGKILL) == 0);
  CHECK(exit_status(pid) == 128 + SIGKILL);
  CHECK(gone(init));
  CHECK(gone(command));
  CHECK(detached(img.path));
  CHECK(read_text("/proc/self/mountinfo") == mounts);
  CHECK(sha256(img.path) == before);
}

TEST_CASE("nothing stays mounted or attached when the command is killed", "[root][try]") {
  if (!can_try()) return;
  Image img;
  const std::string before = sha256(img.path);
  const pid_t pid = start_try(img, "echo x > /written; sleep 100 & touch /host/started; wait");
  const auto [init, command] = init_and_command(pid);
  REQUIRE(::kill(command, SIGKILL) == 0);
  CHECK(exit_status(pid) == 128 + SIGKILL);
  CHECK(gone(init));
  CHECK(detached(img.path));
  CHECK(sha256(img.path) == before);
}

TEST_CASE("SIGTERM to imgroot reaches the command, whose status is imgroot's", "[root][try]") {
  if (!can_try()) return;
  Image img;
  const pid_t pid = start_try(img, "trap 'exit 42' TERM; sleep 100 & touch /host/started; wait");
  REQUIRE(::kill(pid, SIGTERM) == 0);
  CHECK(exit_status(pid) == 42);
  CHECK(detached(img.path));
}

TEST_CASE("a command the image does not have is one line and exit 1", "[root][try]") {
  if (!can_try()) return;
  Image img;
  auto r = try_image(img, "", "no-such-command");
  CHECK(r.status == 1);
  CHECK(r.output == "imgroot: try '" + img.path +
                        "': run 'no-such-command' in the image: No such file or directory\n");
  CHECK(detached(img.path));
}

TEST_CASE("try refuses an image of a filesystem type imgroot does not boot, before mounting it",
          "[root][try]") {
  if (!can_try()) return;
  TempDir tmp;
  check_refuses_foreign_images(
      tmp, [](const std::string& image) { return "try " + shell_quote(image) + " -- /bin/true"; },
      [](const std::string& image, const std::string& type) {
        return "imgroot: try '" + image + "': " + foreign_refusal(image, type) + "\n";
      });
}

TEST_CASE("with --boot the image's init is PID 1, and its power-off ends try with 0",
          "[root][try]") {
  if (!can_try()) return;
  Image img;
  auto r = run(std::string(IMGROOT_BINARY) + " try --boot --init /sbin/quick-init " +
               shell_quote(img.path));
  CHECK(r.status == 0);
  CHECK(r.output == "quick pid 1\n");
  CHECK(detached(img.path));
}

TEST_CASE("the image's root is nodev and nosuid, and keeps setuid only when booted",
          "[root][try]") {
  if (!can_try()) return;
  Image img;
  auto command = try_image(img, "", "cat /proc/self/mounts");
  REQUIRE(command.status == 0);
  CHECK(root_has_option(command.output, "nodev"));
  CHECK(root_has_option(command.output, "nosuid"));
  auto booted = run(std::string(IMGROOT_BINARY) + " try --boot --init /sbin/mounts-init " +
                    shell_quote(img.path));
  REQUIRE(booted.status == 0);
  CHECK(root_has_option(booted.output, "nodev"));
  CHECK_FALSE(root_has_option(booted.output, "nosuid"));
}

TEST_CASE("SIGTERM asks a booted init to halt with SIGRTMIN+3", "[root][try]") {
  if (!can_try()) return;
  Image img;
  const pid_t pid = start_try(img, "", /*boot=*/true);
  REQUIRE(::kill(pid, SIGTERM) == 0);
  CHECK(exit_status(pid) == 0);
  CHECK(detached(img.path));
}

TEST_CASE("a booted init that ignores the halt request is killed by a second signal",
          "[root][try]") {
  if (!can_try()) return;
  Image img;
  const pid_t pid = start_try(img, "", /*boot=*/true, "/sbin/stubborn-init");
  REQUIRE(::kill(pid, SIGTERM) == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  REQUIRE(::waitpid(pid, nullptr, WNOHANG) == 0);  // still running
  REQUIRE(::kill(pid, SIGTERM) == 0);
  CHECK(exit_status(pid) == 128 + SIGKILL);
  CHECK(detached(img.path));
}
