#include <catch2/catch.hpp>

#include "boot/device_spec.h"

using imgroot::DeviceSpec;
using imgroot::parse_device_spec;

TEST_CASE("every documented form of a device spec parses to its kind", "[device_spec]") {
  CHECK(parse_device_spec("LABEL=hostpart").value() == DeviceSpec{DeviceSpec::Kind::kLabel, "hostpart"});
  CHECK(parse_device_spec("UUID=0a1b").value().kind == DeviceSpec::Kind::kUuid);
  CHECK(parse_device_spec("PARTUUID=abcd-01").value().kind == DeviceSpec::Kind::kPartUuid);
  CHECK(parse_device_spec("PARTLABEL=hostpart").value().kind == DeviceSpec::Kind::kPartLabel);
  CHECK(parse_device_spec("/dev/vda2").value() == DeviceSpec{DeviceSpec::Kind::kPath, "/dev/vda2"});
}

TEST_CASE("a quoted label keeps its spaces and loses its quotes", "[device_spec]") {
  CHECK(parse_device_spec("LABEL=\"host part\"").value().value == "host part");
}

TEST_CASE("malformed device specs are errors that say what is accepted", "[device_spec]") {
  for (const char* bad : {"", "LABEL=", "hostpart", "/dev/", "sda2", "uuid=abc"}) {
    auto spec = parse_device_spec(bad);
    REQUIRE_FALSE(spec);
    CHECK_THAT(spec.error().message, Catch::Contains("LABEL=") || Catch::Contains("empty value"));
  }
}

TEST_CASE("UUIDs match whatever their case, labels match exactly", "[device_spec]") {
  CHECK(parse_device_spec("UUID=ABCD-ef01").value().matches("abcd-EF01"));
  CHECK(parse_device_spec("PARTUUID=ABCD").value().matches("abcd"));
  CHECK_FALSE(parse_device_spec("LABEL=Hostpart").value().matches("hostpart"));
}

TEST_CASE("a spec prints back in the form it was written", "[device_spec]") {
  for (const char* text : {"LABEL=hostpart", "UUID=1234", "PARTUUID=a-b", "PARTLABEL=x", "/dev/sda2"})
    CHECK(parse_device_spec(text).value().to_string() == text);
}
