// The host partition's lock (imgroot/lock): a verb that changes the images,
// state.json or grubenv waits while another holds it, and changes nothing
// before it has it (offline, with --hostpart and --esp; no root needed).
#include <sys/file.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <thread>

#include "base/layout.h"
#include "grub/env.h"
#include "grub/trial.h"
#include "stage_support.h"

using namespace imgroot;
using namespace imgroot::test;

namespace {

// A host partition folder with a current image, an EFI-BOOT folder, and
// an image to stage.
struct Offline {
  TempDir dir;
  std::string hp = dir / "hp", esp = dir / "esp", image = dir / "next.img";
  std::string opts = " --hostpart " + shell_quote(hp) + " --esp " + shell_quote(esp);
  std::string state_json = hp + "/imgroot/state.json";
  Offline() {
    std::filesystem::create_directories(hp + "/imgroot");
    std::filesystem::create_directories(esp + "/grub");
    write_text(hp + "/hn-root.img", "current");
    make_good_image(image, dir / "root");
  }
  std::string stage_command() const {
    return std::string(IMGROOT_BINARY) + " stage --no-inspect" + opts + " " + shell_quote(image);
  }
  grub::Phase phase() const {
    return grub::read_trial(grub::parse_env(read_text(esp + "/grub/grubenv")).value()).phase;
  }
};

// The lock as another imgroot holds it: flocked, its pid written in it.
// O_CLOEXEC: the verbs started meanwhile must not inherit it.
class HeldLock {
 public:
  explicit HeldLock(const std::string& hp) {
    fd_ = ::open((hp + "/" + host_files::kLockFile).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    REQUIRE(fd_ >= 0);
    REQUIRE(::flock(fd_, LOCK_EX) == 0);
    const std::string pid = std::to_string(::getpid()) + "\n";
    REQUIRE(::ftruncate(fd_, 0) == 0);
    REQUIRE(::pwrite(fd_, pid.data(), pid.size(), 0) == static_cast<ssize_t>(pid.size()));
  }
  ~HeldLock() { release(); }
  void release() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// A command run in the background; its output and exit status land in files.
class Background {
 public:
  Background(const TempDir& dir, const std::string& command)
      : out_(dir / "background.out"), rc_(dir / "background.rc") {
    REQUIRE(std::system(("(" + command + " >" + shell_quote(out_) + " 2>&1; echo $? >" +
                         shell_quote(rc_) + ") &")
                            .c_str()) == 0);
  }
  ~Background() { (void)finished(); }  // never leave it running past the test's directory

  bool said(const std::string& text) const {
    return poll([&] { return read_text(out_).find(text) != std::string::npos; });
  }
  bool done() const { return exists(rc_) && read_text(rc_).ends_with("\n"); }
  // Its exit status once it ended, -1 when it did not within half a minute.
  int finished() const {
    return poll([&] { return done(); }) ? std::atoi(read_text(rc_).c_str()) : -1;
  }
  std::string output() const { return read_text(out_); }

 private:
  // Up to half a minute: the machine may be busy.
  static bool poll(const std::function<bool()>& ok) {
    for (int i = 0; i < 300; ++i) {
      if (ok()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }
  std::string out_, rc_;
};

std::string waiting_message() {
  return "waiting for another imgroot (pid " + std::to_string(::getpid()) + ") holding";
}

}  // namespace

TEST_CASE("mark-good waits for the host partition's lock and changes nothing while it waits",
          "[lock][cli]") {
  Offline o;
  REQUIRE(run(o.stage_command()).status == 0);
  // The boot rotated the staged image into place: it is on trial.
  std::filesystem::rename(o.hp + "/hn-root.img", o.hp + "/hn-root-old.img");
  std::filesystem::rename(o.hp + "/hn-root-new.img", o.hp + "/hn-root.img");
  REQUIRE(o.phase() == grub::Phase::kCounting);
  const std::string state_before = read_text(o.state_json);

  HeldLock lock(o.hp);
  Background mark(o.dir, std::string(IMGROOT_BINARY) + " mark-good" + o.opts);
  CHECK(mark.said(waiting_message()));
  CHECK_FALSE(mark.done());
  CHECK(o.phase() == grub::Phase::kCounting);
  CHECK(read_text(o.state_json) == state_before);

  lock.release();
  CHECK(mark.finished() == 0);
  INFO(mark.output());
  CHECK_THAT(mark.output(), Catch::Contains("marked hn-root.img good"));
  CHECK(o.phase() == grub::Phase::kNone);
  CHECK(read_text(o.state_json) != state_before);
}

TEST_CASE("stage waits for the host partition's lock before it publishes the image or its trial",
          "[lock][cli]") {
  Offline o;
  HeldLock lock(o.hp);
  Background stage(o.dir, o.stage_command());
  CHECK(stage.said(waiting_message()));
  CHECK_FALSE(stage.done());
  CHECK_FALSE(exists(o.hp + "/hn-root-new.img"));
  CHECK_FALSE(exists(o.state_json));
  CHECK_FALSE(exists(o.esp + "/grub/grubenv"));

  lock.release();
  CHECK(stage.finished() == 0);
  INFO(stage.output());
  CHECK(exists(o.hp + "/hn-root-new.img"));
  CHECK(o.phase() == grub::Phase::kCounting);
}

TEST_CASE("revert waits for the host partition's lock before it writes the flag", "[lock][cli]") {
  Offline o;
  write_text(o.hp + "/hn-root-old.img", "old");
  HeldLock lock(o.hp);
  Background revert(o.dir, std::string(IMGROOT_BINARY) + " revert" + o.opts);
  CHECK(revert.said(waiting_message()));
  CHECK_FALSE(revert.done());
  CHECK_FALSE(exists(o.hp + "/system-revert"));

  lock.release();
  // Checkpointing needs root; the flag is written either way.
  CHECK(revert.finished() >= 0);
  CHECK(exists(o.hp + "/system-revert"));
}
