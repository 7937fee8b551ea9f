// Rotation on a temporary directory, including a power cut after every
// single step of every rotation followed by the next boot's recovery.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/layout.h"
#include "boot/rotation.h"
#include "system/fd.h"
#include "system/file.h"

using namespace imgroot;
using namespace imgroot::host_files;
namespace rot = imgroot::rotation;

using Files = std::map<std::string, std::string>;

namespace Catch {
template <>
struct StringMaker<Files> {
  static std::string convert(const Files& files) {
    std::string out = "{";
    for (const auto& [name, content] : files) out += " " + name + "=" + content;
    return out + " }";
  }
};
}  // namespace Catch

namespace {

// A host partition directory whose images are small files with distinct
// contents, so "which image is where" is a string comparison.
class HostDir {
 public:
  HostDir() {
    char tmpl[] = "/tmp/imgroot-rotation-XXXXXX";
    REQUIRE(::mkdtemp(tmpl));
    path_ = tmpl;
    fd_ = std::move(Fd::open_dir(path_).value());
  }
  ~HostDir() { (void)std::system(("rm -rf '" + path_ + "'").c_str()); }

  int fd() const { return fd_.get(); }

  void put(const std::string& name, const std::string& content) {
    REQUIRE(write_file_atomic_at(fd(), name, content));
  }

  // name -> content of every file in the directory.
  std::map<std::string, std::string> files() const {
    std::map<std::string, std::string> out;
    const auto names = list_dir(fd()).value();
    for (const auto& name : names) out[name] = read_file_at(fd(), name).value();
    return out;
  }

 private:
  std::string path_;
  Fd fd_;
};


const std::vector<std::string> kImageNames = {kCurrent, kNew, kOld, kBroken};

std::set<std::string> images_in(const Files& files) {
  std::set<std::string> out;
  for (const auto& name : kImageNames)
    if (auto it = files.find(name); it != files.end()) out.insert(it->second);
  return out;
}

rot::HostState state_of(const HostDir& dir) { return rot::read_state(dir.fd()).value(); }

struct Scenario {
  const char* name;
  Files before;
  bool revert_requested;
  Files after;                  // the result of an uninterrupted rotation
  std::set<std::string> dropped;  // images a completed rotation replaces on purpose
  // Another end state a power cut may lead to, where the rules allow it.
  std::optional<Files> also_after = std::nullopt;
};

// The images are named by their content: "A" is the old image, "B" the one
// that was current, "N" a staged one, "X" a broken one from before.
const std::vector<Scenario> kScenarios = {
    {"a staged image becomes current, the current one old",
     {{kCurrent, "B"}, {kNew, "N"}, {kOld, "A"}}, false,
     {{kCurrent, "N"}, {kOld, "B"}}, {"A"}},
    {"a first upgrade creates the old image",
     {{kCurrent, "B"}, {kNew, "N"}}, false,
     {{kCurrent, "N"}, {kOld, "B"}}, {}},
    {"a revert flag without an old image is dropped and the staged image boots",
     {{kCurrent, "B"}, {kNew, "N"}, {kRevertFlag, ""}}, false,
     {{kCurrent, "N"}, {kOld, "B"}}, {}},
    {"system-revert brings the old image back and keeps the current one as broken",
     {{kCurrent, "B"}, {kOld, "A"}, {kBroken, "X"}, {kRevertFlag, ""}}, false,
     {{kCurrent, "A"}, {kBroken, "B"}}, {"X"}},
    {"imgroot.revert=1 reverts without a flag file",
     {{kCurrent, "B"}, {kOld, "A"}}, true,
     {{kCurrent, "A"}, {kBroken, "B"}}, {}},
    {"with a revert pending and an image staged, the revert comes first and the image stays staged",
     {{kCurrent, "B"}, {kOld, "A"}, {kNew, "N"}, {kRevertFlag, ""}}, false,
     {{kCurrent, "A"}, {kBroken, "B"}, {kNew, "N"}}, {},
     // Once the old image has replaced the current one the revert is done;
     // a power cut before the flag is removed makes GRUB and the init pick
     // the staged image at once (documented in docs/crash-safety.md).
     Files{{kCurrent, "N"}, {kOld, "A"}, {kBroken, "B"}}},
    {"with only a staged image, it becomes current",
     {{kNew, "N"}}, false,
     {{kCurrent, "N"}}, {}},
    {"nothing staged and nothing to revert leaves everything as it is",
     {{kCurrent, "B"}, {kOld, "A"}}, false,
     {{kCurrent, "B"}, {kOld, "A"}}, {}},
};

// What the init does at the next boot: the same rotation again.
void next_boot(HostDir& dir, bool revert_requested) {
  auto outcome = rot::rotate(dir.fd(), revert_requested);
  REQUIRE(outcome);
}

}  // namespace

TEST_CASE("an uninterrupted rotation ends in the documented state", "[rotation]") {
  for (const auto& s : kScenarios) {
    DYNAMIC_SECTION(s.name) {
      HostDir dir;
      for (const auto& [name, content] : s.before) dir.put(name, content);
      auto outcome = rot::rotate(dir.fd(), s.revert_requested);
      REQUIRE(outcome);
      CHECK(dir.files() == s.after);
    }
  }
}

TEST_CASE("a second rotation after a completed one changes nothing", "[rotation]") {
  for (const auto& s : kScenarios) {
    DYNAMIC_SECTION(s.name) {
      HostDir dir;
      for (const auto& [name, content] : s.before) dir.put(name, content);
      REQUIRE(rot::rotate(dir.fd(), s.revert_requested));
      auto again = rot::rotate(dir.fd(), false);
      REQUIRE(again);
      // A revert with an image staged leaves it staged: that one upgrades next.
      if (s.after.count(kNew)) {
        CHECK(again->action == rot::Action::kUpgrade);
      } else {
        CHECK(again->action == rot::Action::kNone);
        CHECK(again->steps.empty());
        CHECK(dir.files() == s.after);
      }
    }
  }
}

TEST_CASE("a power cut after any step of any rotation leaves a bootable state that the next boot completes",
          "[rotation][crash]") {
  for (const auto& s : kScenarios) {
    HostDir probe;
    for (const auto& [name, content] : s.before) probe.put(name, content);
    const size_t total = rot::rotate(probe.fd(), s.revert_requested).value().steps.size();

    for (size_t cut = 0; cut < total; ++cut) {
      DYNAMIC_SECTION(s.name << ", power cut after step " << cut << " of " << total) {
        HostDir dir;
        for (const auto& [name, content] : s.before) dir.put(name, content);
        rot::CrashAfter crash{static_cast<int>(cut)};
        auto cut_short = rot::rotate(dir.fd(), s.revert_requested, &crash);
        REQUIRE_FALSE(cut_short);
        CHECK_THAT(cut_short.error().message, Catch::Contains("simulated power cut"));

        // At the instant of the cut: no image lost, and GRUB has an image to load.
        const Files at_cut = dir.files();
        for (const auto& image : images_in(s.before))
          CHECK((images_in(at_cut).count(image) || s.dropped.count(image)));
        auto grub_loads = rot::boot_choice(state_of(dir), s.revert_requested);
        REQUIRE(grub_loads);
        const std::string kernel_from = at_cut.at(*grub_loads);

        next_boot(dir, s.revert_requested);

        // The image the init boots is the one whose kernel GRUB loaded.
        const Files after = dir.files();
        REQUIRE(after.count(kCurrent));
        CHECK(after.at(kCurrent) == kernel_from);
        // It ends as an uninterrupted rotation would, with no stray names.
        if (s.also_after && after == *s.also_after) {
          SUCCEED("ended in the allowed alternative state");
        } else {
          CHECK(after == s.after);
        }
        for (const auto& image : images_in(s.before))
          CHECK((images_in(after).count(image) || s.dropped.count(image)));
      }
    }
  }
}

TEST_CASE("an unbootable current image falls back to the old one and is kept as broken",
          "[rotation]") {
  HostDir dir;
  dir.put(kCurrent, "X");
  dir.put(kOld, "A");
  auto outcome = rot::fall_back(dir.fd());
  REQUIRE(outcome);
  CHECK(dir.files() == Files{{kCurrent, "A"}, {kBroken, "X"}});
}

TEST_CASE("a power cut while falling back leaves the next boot falling back to the same image",
          "[rotation][crash]") {
  HostDir probe;
  probe.put(kCurrent, "X");
  probe.put(kOld, "A");
  const int total = static_cast<int>(rot::fall_back(probe.fd()).value().steps.size());
  REQUIRE(total >= 2);
  for (int cut = 0; cut < total; ++cut) {
    DYNAMIC_SECTION("power cut after step " << cut) {
      HostDir dir;
      dir.put(kCurrent, "X");
      dir.put(kOld, "A");
      rot::CrashAfter crash{cut};
      REQUIRE_FALSE(rot::fall_back(dir.fd(), &crash));
      CHECK(images_in(dir.files()) == std::set<std::string>{"A", "X"});

      // The next boot: rotate, find X unbootable again, fall back.
      next_boot(dir, false);
      if (dir.files().at(kCurrent) == "X") REQUIRE(rot::fall_back(dir.fd()));
      CHECK(dir.files() == Files{{kCurrent, "A"}, {kBroken, "X"}});
    }
  }
}

TEST_CASE("falling back with neither an old nor a staged image takes the broken one back",
          "[rotation]") {
  HostDir dir;
  dir.put(kCurrent, "X");
  dir.put(kBroken, "B");
  auto outcome = rot::fall_back(dir.fd());
  REQUIRE(outcome);
  CHECK(dir.files() == Files{{kCurrent, "B"}, {kBroken, "X"}});
}

TEST_CASE("falling back to a staged image upgrades to it", "[rotation]") {
  HostDir dir;
  dir.put(kCurrent, "X");
  dir.put(kNew, "N");
  dir.put(kOld, "A");
  auto outcome = rot::fall_back(dir.fd());
  REQUIRE(outcome);
  CHECK(dir.files() == Files{{kCurrent, "N"}, {kOld, "A"}, {kBroken, "X"}});
}

TEST_CASE("falling back without an old image is an error that names it", "[rotation]") {
  HostDir dir;
  dir.put(kCurrent, "X");
  auto outcome = rot::fall_back(dir.fd());
  REQUIRE_FALSE(outcome);
  CHECK_THAT(outcome.error().message, Catch::Contains(kOld));
  CHECK(dir.files() == Files{{kCurrent, "X"}});
}

TEST_CASE("GRUB's choice follows the documented precedence", "[rotation]") {
  rot::HostState s;
  CHECK_FALSE(rot::boot_choice(s, false));
  s.current = true;
  CHECK(rot::boot_choice(s, false) == kCurrent);
  CHECK(rot::boot_choice(s, true) == kCurrent);  // nothing to revert to
  s.old = true;
  CHECK(rot::boot_choice(s, false) == kCurrent);
  CHECK(rot::boot_choice(s, true) == kOld);
  s.staged = true;
  CHECK(rot::boot_choice(s, false) == kNew);
  s.revert_flag = true;
  CHECK(rot::boot_choice(s, false) == kOld);  // revert first, the staged image waits
  s = rot::HostState{};
  s.old = true;
  CHECK(rot::boot_choice(s, false) == kOld);  // last resort: whatever exists
}

TEST_CASE("giving up the staged image keeps it as broken and leaves the rest", "[rotation]") {
  HostDir dir;
  dir.put(kCurrent, "B");
  dir.put(kOld, "A");
  dir.put(kNew, "N");
  dir.put(kBroken, "X");
  auto outcome = rot::discard_staged(dir.fd());
  REQUIRE(outcome);
  CHECK(outcome->steps == std::vector<std::string>{"hn-root-new.img -> hn-root-broken.img"});
  CHECK(dir.files() == Files{{kCurrent, "B"}, {kOld, "A"}, {kBroken, "N"}});
  // The next rotation then has nothing to do, and a second discard neither.
  CHECK(rot::discard_staged(dir.fd()).value().steps.empty());
  CHECK(rot::rotate(dir.fd(), false).value().chosen == kCurrent);
}

TEST_CASE("a power cut while giving up the staged image leaves it staged or given up",
          "[rotation][crash]") {
  HostDir dir;
  dir.put(kCurrent, "B");
  dir.put(kNew, "N");
  rot::CrashAfter crash{0};
  REQUIRE_FALSE(rot::discard_staged(dir.fd(), &crash));
  CHECK(dir.files() == Files{{kCurrent, "B"}, {kNew, "N"}});
  REQUIRE(rot::discard_staged(dir.fd()));
  CHECK(dir.files() == Files{{kCurrent, "B"}, {kBroken, "N"}});
}

// Entries under image names that are no image file (issue: a node waited
// forever at the initramfs although a good image was right there).

TEST_CASE("a directory named hn-root-new.img is kept aside and the current image boots",
          "[rotation][odd]") {
  HostDir dir;
  dir.put(kCurrent, "C");
  REQUIRE(::mkdirat(dir.fd(), kNew, 0755) == 0);
  auto outcome = rot::rotate(dir.fd(), false);
  REQUIRE(outcome);
  CHECK(outcome->chosen == kCurrent);
  CHECK(outcome->action == rot::Action::kNone);
  CHECK(read_file_at(dir.fd(), kCurrent).value() == "C");
  CHECK(exists_at(dir.fd(), std::string(kSetAsideDir) + "/" + kNew + ".1").value());
  CHECK_FALSE(exists_at(dir.fd(), kNew).value());
}

TEST_CASE("a directory named hn-root.img gives way to the old image, never linked",
          "[rotation][odd]") {
  HostDir dir;
  dir.put(kOld, "A");
  REQUIRE(::mkdirat(dir.fd(), kCurrent, 0755) == 0);
  REQUIRE(::mkdirat(dir.fd(), (std::string(kCurrent) + "/inside").c_str(), 0755) == 0);
  auto outcome = rot::rotate(dir.fd(), false);
  REQUIRE(outcome);
  CHECK(read_file_at(dir.fd(), kCurrent).value() == "A");
  CHECK(exists_at(dir.fd(), std::string(kSetAsideDir) + "/" + kCurrent + ".1/inside").value());
}

TEST_CASE("a FIFO and a symlink under image names are never opened or followed",
          "[rotation][odd]") {
  HostDir dir;
  dir.put(kCurrent, "C");
  dir.put("elsewhere.img", "E");
  REQUIRE(::mkfifoat(dir.fd(), kNew, 0600) == 0);
  REQUIRE(::symlinkat("elsewhere.img", dir.fd(), kOld) == 0);
  auto state = rot::read_state(dir.fd()).value();
  CHECK_FALSE(state.staged);
  CHECK_FALSE(state.old);
  auto outcome = rot::rotate(dir.fd(), true);  // a revert to the symlink is no revert
  REQUIRE(outcome);
  CHECK(outcome->chosen == kCurrent);
  CHECK(read_file_at(dir.fd(), kCurrent).value() == "C");
  CHECK(read_file_at(dir.fd(), "elsewhere.img").value() == "E");
  CHECK(exists_at(dir.fd(), std::string(kSetAsideDir) + "/" + kNew + ".1").value());
  CHECK(exists_at(dir.fd(), std::string(kSetAsideDir) + "/" + kOld + ".1").value());
}

TEST_CASE("a staged name hard-linked to the current image is dropped, not upgraded to at every boot",
          "[rotation][odd]") {
  HostDir dir;
  dir.put(kCurrent, "C");
  dir.put(kOld, "A");
  REQUIRE(link_at(dir.fd(), kCurrent, kNew));
  for (int boot = 0; boot < 2; ++boot) {
    auto outcome = rot::rotate(dir.fd(), false);
    REQUIRE(outcome);
    CHECK(outcome->chosen == kCurrent);
  }
  CHECK(dir.files() == Files{{kCurrent, "C"}, {kOld, "A"}});
}

TEST_CASE("an image file the check rejects is given up as broken before the rotation",
          "[rotation][odd]") {
  HostDir dir;
  dir.put(kCurrent, "C");
  dir.put(kOld, "A");
  dir.put(kNew, "garbage");
  auto outcome = rot::rotate(dir.fd(), false, nullptr, [](int d, const char* name) {
    return read_file_at(d, name).value() != "garbage";
  });
  REQUIRE(outcome);
  CHECK(outcome->chosen == kCurrent);
  CHECK(dir.files() == Files{{kCurrent, "C"}, {kOld, "A"}, {kBroken, "garbage"}});
}
