// Reading the initramfs's modules.load (init/early.h): which modules the
// init loads, in which order, from the list the builder wrote.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "early.h"

using imgroot::init::module_paths;
using Paths = std::vector<std::string>;

TEST_CASE("modules.load names one module a line, loaded in the order listed", "[init]") {
  CHECK(module_paths("/lib/modules/6.1/kernel/a.ko\n/lib/modules/6.1/kernel/b.ko.zst\n") ==
        Paths{"/lib/modules/6.1/kernel/a.ko", "/lib/modules/6.1/kernel/b.ko.zst"});
}

TEST_CASE("blank lines and spaces or tabs around a module path do not count", "[init]") {
  CHECK(module_paths("\n\n  /m/a.ko  \n\t/m/b.ko\t\n\n   \n/m/c.ko") ==
        Paths{"/m/a.ko", "/m/b.ko", "/m/c.ko"});
}

TEST_CASE("an empty modules.load loads nothing", "[init]") {
  CHECK(module_paths("").empty());
  CHECK(module_paths("\n \n\t\n").empty());
}

TEST_CASE("modules.load has no comments: a '#' line names modules like any other", "[init]") {
  // The builder writes only paths; the init does not skip anything.
  CHECK(module_paths("# /m/a.ko\n/m/b.ko\n") == Paths{"#", "/m/a.ko", "/m/b.ko"});
}

TEST_CASE("double quotes group a path with a space in modules.load", "[init]") {
  CHECK(module_paths("\"/m/with space.ko\"\n/m/b.ko\n") == Paths{"/m/with space.ko", "/m/b.ko"});
}
