// Enum name tables (lib/base/names.h) and the enums that use them.
#include <catch2/catch.hpp>
#include <string>

#include "base/names.h"
#include "boot/cmdline.h"
#include "boot/rotation.h"
#include "identity/identity.h"
#include "state/state_file.h"

using namespace imgroot;

namespace {

enum class Colour { kRed, kGreen, kBlue };
constexpr EnumName<Colour> kColours[] = {{Colour::kRed, "red"}, {Colour::kGreen, "green"}};

}  // namespace

TEST_CASE("a name table gives a value's name and a name's value", "[names]") {
  CHECK(std::string(enum_name(kColours, Colour::kGreen)) == "green");
  CHECK(enum_value(kColours, "red") == Colour::kRed);
  CHECK_FALSE(enum_value(kColours, "Red"));
  CHECK_FALSE(enum_value(kColours, ""));
}

TEST_CASE("a value missing from its name table gets the fallback name", "[names]") {
  CHECK(std::string(enum_name(kColours, Colour::kBlue)) == "?");
  CHECK(std::string(enum_name(kColours, Colour::kBlue, "none")) == "none");
}

TEST_CASE("an assessment's name parses back to it, and only those names parse", "[names]") {
  for (auto a : {state::Assessment::kNone, state::Assessment::kGood, state::Assessment::kBad})
    CHECK(state::parse_assessment(state::assessment_name(a)) == a);
  CHECK(std::string(state::assessment_name(state::Assessment::kNone)) == "unassessed");
  CHECK_FALSE(state::parse_assessment("none"));
}

TEST_CASE("every overlay name is what imgroot.overlay= takes for it", "[names]") {
  for (auto o : {Overlay::kNone, Overlay::kTmpfs, Overlay::kPersistent}) {
    auto parsed = parse_cmdline(std::string("imgroot.overlay=") + overlay_name(o));
    CHECK(parsed.config.overlay == o);
    CHECK(parsed.warnings.empty());
  }
  CHECK(parse_cmdline("imgroot.overlay=0").config.overlay == Overlay::kNone);
  auto odd = parse_cmdline("imgroot.overlay=tmpfs imgroot.overlay=zram");
  CHECK(odd.config.overlay == Overlay::kTmpfs);
  CHECK(odd.warnings.size() == 1);
}

TEST_CASE("rotation actions and host identity comparisons have their documented names",
          "[names]") {
  CHECK(std::string(rotation::action_name(rotation::Action::kNone)) == "none");
  CHECK(std::string(rotation::action_name(rotation::Action::kUpgrade)) == "upgrade");
  CHECK(std::string(rotation::action_name(rotation::Action::kRevert)) == "revert");
  CHECK(std::string(identity::here_name(identity::Here::kSame)) == "same");
  CHECK(std::string(identity::here_name(identity::Here::kDiffers)) == "differs");
  CHECK(std::string(identity::here_name(identity::Here::kMissing)) == "missing");
  CHECK(std::string(identity::here_name(identity::Here::kUnreadable)) == "unreadable");
  CHECK(std::string(identity::here_name(identity::Here::kNotCompared)).empty());
}
