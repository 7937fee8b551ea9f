// What the init decides around the rotation (init/fall_back.h): how often
// it falls back, what it logs, and when the kernel was left behind.
#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/layout.h"
#include "boot/rotation.h"
#include "fall_back.h"

using namespace imgroot;
using namespace imgroot::init;
using namespace imgroot::host_files;
using Lines = std::vector<LogLine>;

namespace Catch {
template <>
struct StringMaker<LogLine> {
  static std::string convert(const LogLine& line) {
    return "<" + std::to_string(static_cast<int>(line.level)) + ">" + line.text;
  }
};
}  // namespace Catch

TEST_CASE("a boot falls back once for each image besides the current one, then gives up",
          "[init]") {
  // The init's loop: hn-root.img cannot be booted, every time.
  int fallen_back = 0;
  while (may_fall_back(fallen_back)) ++fallen_back;
  CHECK(fallen_back == rotation::kMaxFallBacks);
  CHECK(fallen_back == 3);  // staged, old, broken
  CHECK(may_fall_back(0));
  CHECK_FALSE(may_fall_back(rotation::kMaxFallBacks));
}

TEST_CASE("after a fall-back the kernel of GRUB's image is left behind, and a reboot is due",
          "[init]") {
  CHECK(kernel_left_behind(std::string(kCurrent)) ==
        std::string("the kernel of ") + kCurrent + " runs, but its image cannot be booted");
}

TEST_CASE("after a fall-back a kernel that came from no image asks for no reboot", "[init]") {
  CHECK_FALSE(kernel_left_behind(std::nullopt).has_value());
}

TEST_CASE("a fall-back logs what it could not set aside as warnings, then each step",
          "[init]") {
  rotation::Outcome outcome;
  outcome.ignored = {"hn-root-old.img is a mount point: ignored"};
  outcome.steps = {"rename a -> b", "rename c -> d"};
  outcome.dropped_stale_flag = true;  // not the fall-back's to report
  CHECK(fall_back_log(outcome) == Lines{{Level::kWarning, "hn-root-old.img is a mount point: ignored"},
                                        {Level::kInfo, "fall back: rename a -> b"},
                                        {Level::kInfo, "fall back: rename c -> d"}});
}

TEST_CASE("a rotation logs its steps, and a revert with nothing to go back to", "[init]") {
  rotation::Outcome outcome;
  outcome.steps = {"rename x -> y"};
  outcome.dropped_stale_flag = true;
  CHECK(rotation_log(outcome) ==
        Lines{{Level::kInfo, "rotation: rename x -> y"},
              {Level::kWarning, std::string("a revert was requested but there is no ") + kOld +
                                    "; booting " + kCurrent}});
}

TEST_CASE("a rotation that did nothing logs nothing", "[init]") {
  CHECK(rotation_log(rotation::Outcome{}).empty());
  CHECK(fall_back_log(rotation::Outcome{}).empty());
}
