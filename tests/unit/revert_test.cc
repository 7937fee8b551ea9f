#include <catch2/catch.hpp>

#include "stage_support.h"
#include "state/revert.h"
#include "system/fd.h"
#include "system/file.h"

using namespace imgroot;
using namespace imgroot::state;
using namespace imgroot::test;

namespace {

using Host = HostDir;

}  // namespace

TEST_CASE("revert without an old image is refused and creates no flag", "[revert]") {
  Host host({"hn-root.img"});
  auto st = request_revert(host.fd.get(), {});
  REQUIRE_FALSE(st);
  CHECK(st.error().message == "there is no hn-root-old.img to go back to");
  CHECK_FALSE(exists(host.dir / "system-revert"));
}

TEST_CASE("revert with an image staged is refused unless told to unstage", "[revert]") {
  Host host({"hn-root.img", "hn-root-old.img", "hn-root-new.img"});
  auto st = request_revert(host.fd.get(), {});
  REQUIRE_FALSE(st);
  CHECK(st.error().message.starts_with("hn-root-new.img is staged"));
  CHECK(st.error().message.find("--unstage") != std::string::npos);
  CHECK_FALSE(exists(host.dir / "system-revert"));
  CHECK(exists(host.dir / "hn-root-new.img"));

  REQUIRE(request_revert(host.fd.get(), {.unstage = true}));
  CHECK(exists(host.dir / "system-revert"));
  CHECK_FALSE(exists(host.dir / "hn-root-new.img"));
  CHECK(exists(host.dir / "hn-root-old.img"));
}

TEST_CASE("revert creates the flag and cancel removes it", "[revert]") {
  Host host({"hn-root.img", "hn-root-old.img"});
  REQUIRE(request_revert(host.fd.get(), {}));
  CHECK(exists(host.dir / "system-revert"));
  // The flag's temp file is gone: only the images and the flag are left.
  CHECK(list_dir(host.fd.get()).value() ==
        std::vector<std::string>{"hn-root-old.img", "hn-root.img", "system-revert"});
  // Asking twice is not an error.
  REQUIRE(request_revert(host.fd.get(), {}));

  auto cancelled = cancel_revert(host.fd.get());
  REQUIRE(cancelled);
  CHECK(*cancelled);
  CHECK_FALSE(exists(host.dir / "system-revert"));
  auto again = cancel_revert(host.fd.get());
  REQUIRE(again);
  CHECK_FALSE(*again);
}
