// The order in which the shutdown program takes a tree of mounts apart
// (init/shutdown.h): which mount points, the last mounted first.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "shutdown.h"

using imgroot::init::is_at_or_below;
using imgroot::init::unmount_order;
using Paths = std::vector<std::string>;

TEST_CASE("nested mounts are unmounted the last mounted first, the top last", "[init]") {
  const Paths mounted = {"/", "/oldroot", "/oldroot/proc", "/oldroot/run",
                         "/oldroot/run/user/0", "/oldroot/data", "/oldroot/data/cache"};
  CHECK(unmount_order(mounted, "/oldroot") ==
        Paths{"/oldroot/data/cache", "/oldroot/data", "/oldroot/run/user/0", "/oldroot/run",
              "/oldroot/proc", "/oldroot"});
}

TEST_CASE("a sibling whose name starts like the top is not part of its tree", "[init]") {
  const Paths mounted = {"/", "/hostpart", "/hostpart2", "/hostpart/x", "/hostpart-old",
                         "/hostpart2/y"};
  CHECK(unmount_order(mounted, "/hostpart") == Paths{"/hostpart/x", "/hostpart"});
  CHECK(unmount_order(mounted, "/hostpart2") == Paths{"/hostpart2/y", "/hostpart2"});
  CHECK_FALSE(is_at_or_below("/hostpart2", "/hostpart"));
  CHECK_FALSE(is_at_or_below("/hostpart-old", "/hostpart"));
  CHECK(is_at_or_below("/hostpart/x", "/hostpart"));
}

TEST_CASE("the top alone is unmounted, and its parents are not", "[init]") {
  CHECK(unmount_order({"/", "/oldroot"}, "/oldroot") == Paths{"/oldroot"});
  CHECK(is_at_or_below("/oldroot", "/oldroot"));
  CHECK_FALSE(is_at_or_below("/", "/oldroot"));
}

TEST_CASE("a path mounted over twice is unmounted twice, the upper one first", "[init]") {
  // mountinfo order: the host partition, a bind over it, then a mount below.
  const Paths mounted = {"/", "/oldroot", "/oldroot/hostpart", "/oldroot/hostpart",
                         "/oldroot/hostpart/sub"};
  CHECK(unmount_order(mounted, "/oldroot/hostpart") ==
        Paths{"/oldroot/hostpart/sub", "/oldroot/hostpart", "/oldroot/hostpart"});
}

TEST_CASE("a mount below the top made after a later sibling still goes first", "[init]") {
  // The order is the mount order reversed, not the path order.
  const Paths mounted = {"/oldroot", "/oldroot/a", "/oldroot/b", "/oldroot/a/inner"};
  CHECK(unmount_order(mounted, "/oldroot") ==
        Paths{"/oldroot/a/inner", "/oldroot/b", "/oldroot/a", "/oldroot"});
}

TEST_CASE("nothing at or below the top means nothing to unmount", "[init]") {
  CHECK(unmount_order({"/", "/proc", "/sys"}, "/oldroot").empty());
  CHECK(unmount_order({}, "/oldroot").empty());
}
