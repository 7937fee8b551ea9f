// The init's kernel/image cross-check (init/cross_check.h): when it reboots
// once for a kernel that is not the booting image's own, and when not.
#include <catch2/catch.hpp>
#include <optional>
#include <string>

#include "base/layout.h"
#include "cross_check.h"

using namespace imgroot;
using namespace imgroot::init;
using namespace imgroot::host_files;

TEST_CASE("a kernel that came from no image (no imgroot.image=) is not checked", "[init]") {
  for (bool marker : {false, true}) {
    auto d = decide_kernel_check(std::nullopt, kCurrent, marker);
    CHECK(d.step == KernelStep::kBootOn);
    CHECK(d.why.empty());
  }
  CHECK(decide_kernel_check(std::nullopt, "", false).step == KernelStep::kBootOn);
}

TEST_CASE("the kernel of the image the rules choose boots on without a reboot", "[init]") {
  auto d = decide_kernel_check(std::string(kNew), kNew, false);
  CHECK(d.step == KernelStep::kBootOn);
  CHECK(d.why.empty());
}

TEST_CASE("a match after the reboot for a mismatch removes the marker and says so", "[init]") {
  auto d = decide_kernel_check(std::string(kCurrent), kCurrent, true);
  CHECK(d.step == KernelStep::kForgetMarker);
  CHECK(d.why == std::string("after the reboot GRUB loaded the kernel of ") + kCurrent +
                     ", as the rules choose");
}

TEST_CASE("the first mismatch between GRUB's image and the rules' reboots once", "[init]") {
  auto d = decide_kernel_check(std::string(kCurrent), kNew, false);
  CHECK(d.step == KernelStep::kRebootOnce);
  CHECK(d.why == std::string("GRUB loaded the kernel of ") + kCurrent + " but the rules choose " +
                     kNew);
}

TEST_CASE("a mismatch again after the reboot for it boots anyway instead of looping", "[init]") {
  auto d = decide_kernel_check(std::string(kOld), kCurrent, true);
  CHECK(d.step == KernelStep::kBootAnyway);
  CHECK(d.why == std::string("GRUB loaded the kernel of ") + kOld + " but the rules choose " +
                     kCurrent);
}

TEST_CASE("GRUB naming an image when the rules find none is a mismatch with no image", "[init]") {
  auto d = decide_kernel_check(std::string(kCurrent), "", false);
  CHECK(d.step == KernelStep::kRebootOnce);
  CHECK(d.why == std::string("GRUB loaded the kernel of ") + kCurrent +
                     " but the rules choose no image");
}

TEST_CASE("the image names are compared exactly, not as prefixes", "[init]") {
  CHECK(decide_kernel_check(std::string(kCurrent) + ".bak", kCurrent, false).step ==
        KernelStep::kRebootOnce);
}

TEST_CASE("a kernel left behind reboots once, and boots anyway when the marker says it did",
          "[init]") {
  auto first = decide_reboot_once("the kernel runs without its image", false);
  CHECK(first.step == KernelStep::kRebootOnce);
  CHECK(first.why == "the kernel runs without its image");
  auto again = decide_reboot_once("the kernel runs without its image", true);
  CHECK(again.step == KernelStep::kBootAnyway);
  CHECK(again.why == "the kernel runs without its image");
}
