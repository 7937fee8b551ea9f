// The init's record of a boot in the event log (init/boot_record.h): the
// line it writes without nlohmann/json must read back with the host side's
// parser, whatever the command line held, on a line of its own.
#include <catch2/catch.hpp>

#include <fstream>
#include <string>
#include <vector>

#include "base/layout.h"
#include "boot/rotation.h"
#include "boot_record.h"
#include "fall_back.h"
#include "state/event_log.h"
#include "test_support.h"

using namespace imgroot;
using namespace imgroot::init;
using namespace imgroot::test;
using Strings = std::vector<std::string>;

namespace {

constexpr const char* kTime = "2026-11-21T20:38:21Z";
constexpr const char* kBootId = "0f8c6c1e-2d5b-4a57-9a0e-5b1c7d2e9f40";

state::Event parsed(const BootRecord& record) {
  auto event = state::event_from_json(boot_record_line(record, kTime, kBootId));
  REQUIRE(event);
  return *event;
}

// An upgrade of hn-root-new.img, as the init records it: the rotation done
// on a host partition directory, its log lines, a mount that fell back once.
BootRecord upgrade_record(int hostpart) {
  BootConfig config;
  config.image = host_files::kNew;
  config.revert = true;
  config.broken = {host_files::kOld};
  BootRecord record = BootRecord::from(config);
  auto outcome = rotation::rotate_at_boot(hostpart, config);
  REQUIRE(outcome);
  record.rotation = rotation::action_name(outcome->action);
  record.chosen = outcome->chosen;
  record.add(rotation_log(*outcome));
  record.add({{Level::kError, "cannot boot hn-root.img: no /sbin/init in it"}});
  record.fell_back = 1;
  record.image = host_files::kCurrent;
  record.fs = "ext4";
  return record;
}

}  // namespace

TEST_CASE("the init's event reads back with the host side's parser, every field", "[init][events]") {
  HostDir host({"hn-root.img", "hn-root-new.img", "hn-root-old.img"});
  const state::Event e = parsed(upgrade_record(host.fd.get()));
  CHECK(e.time == kTime);
  CHECK(e.type == "init");
  CHECK(e.text("boot_id") == kBootId);
  CHECK(e.text("loaded") == "hn-root-new.img");
  CHECK(e.list("asked") == Strings{"revert", "broken=hn-root-old.img"});
  // The old image was given up on GRUB's word, so the revert asked for has
  // nothing to go back to: the staged image is the upgrade.
  CHECK(e.text("rotation") == "upgrade");
  CHECK(e.text("chosen") == "hn-root-new.img");
  const Strings steps = e.list("steps");
  REQUIRE_FALSE(steps.empty());
  CHECK(steps.front() == "rotation: hn-root-old.img -> hn-root-broken.img");
  CHECK(steps.back() == "rotation: hn-root-new.img -> hn-root.img");
  const Strings warnings = e.list("warnings");
  REQUIRE(warnings.size() == 2);
  CHECK(warnings[0].starts_with("a revert was requested but there is no hn-root-old.img"));
  CHECK(warnings[1] == "cannot boot hn-root.img: no /sbin/init in it");
  REQUIRE(e.fields.size() == 10);
  CHECK(e.fields[6] == std::pair<std::string, state::EventValue>{"fell_back", std::int64_t{1}});
  CHECK(e.text("image") == "hn-root.img");
  CHECK(e.text("fs") == "ext4");
  CHECK(e.text("error").empty());
}

TEST_CASE("the init's line is byte for byte what the host side writes for the same event",
          "[init][events]") {
  HostDir host({"hn-root.img", "hn-root-new.img", "hn-root-old.img"});
  BootRecord record = upgrade_record(host.fd.get());
  record.warnings.push_back("tab\there, \"quoted\", back\\slash, bell\a, caf\xC3\xA9");
  const std::string line = boot_record_line(record, kTime, kBootId);
  auto event = state::event_from_json(line);
  REQUIRE(event);
  CHECK(state::event_to_json(*event) == line);
}

TEST_CASE("odd characters in the loaded path are escaped and read back as they were",
          "[init][events]") {
  BootRecord record;
  const std::string odd = "images/\"new\" \\ one\n\t\x01\x1f\x7f caf\xC3\xA9 \xF0\x9F\x92\xBE.img";
  record.loaded = odd;
  record.rotation = "none";
  const std::string line = boot_record_line(record, kTime, "");
  CHECK(line.find('\n') == std::string::npos);
  CHECK(line.find("\\u0001\\u001f") != std::string::npos);
  const state::Event e = state::event_from_json(line).value();
  CHECK(e.text("loaded") == odd);
  CHECK(e.text("boot_id").empty());
}

TEST_CASE("bytes of the loaded path that are not UTF-8 become U+FFFD and the line still reads",
          "[init][events]") {
  BootRecord record;
  // A lone continuation byte, a cut sequence, an overlong '/', a surrogate.
  record.loaded = "a\x80" "b\xE2\x82" "c\xC0\xAF" "d\xED\xA0\x80" "e";
  const state::Event e = parsed(record);
  const std::string loaded = e.text("loaded");
  CHECK(loaded.starts_with("a\xEF\xBF\xBD" "b"));
  CHECK(loaded.ends_with("e"));
  CHECK(loaded.find("\xEF\xBF\xBD" "c") != std::string::npos);
}

TEST_CASE("a boot that found nothing to boot records why, and no image", "[init][events]") {
  BootRecord record;
  record.rotation = "none";
  record.fell_back = 3;
  record.error = "no image on the host partition can be mounted";
  const state::Event e = parsed(record);
  CHECK(e.text("error") == "no image on the host partition can be mounted");
  CHECK(e.text("image").empty());
  CHECK(state::event_to_text(e) ==
        std::string(kTime) + " init boot_id=" + kBootId +
            " rotation=none fell_back=3 error='no image on the host partition can be mounted'");
}

TEST_CASE("a boot the init rebooted at once records why, and no image", "[init][events]") {
  BootRecord record;
  record.loaded = host_files::kCurrent;
  record.rotation = "upgrade";
  record.chosen = host_files::kNew;
  record.rebooted = "GRUB loaded the kernel of hn-root.img but the rules choose hn-root-new.img";
  const state::Event e = parsed(record);
  CHECK(e.text("rebooted") == record.rebooted);
  CHECK(e.text("image").empty());
  CHECK(e.text("error").empty());
}

TEST_CASE("the init's event after a line torn by a power cut starts a line of its own",
          "[init][events]") {
  HostDir host;
  REQUIRE(state::append_event(host.fd.get(), {"", "stage", {{"image", std::string("x")}}}));
  {
    std::ofstream out(host.dir / "imgroot/events.jsonl", std::ios::app);
    out << "{\"time\":\"2026-01-01T00:00:00Z\",\"ev";
  }
  BootRecord record;
  record.rotation = "none";
  REQUIRE(append_boot_record(host.fd.get(), record, kTime, kBootId));
  auto events = state::read_events(host.fd.get());
  REQUIRE(events);
  REQUIRE(events->size() == 2);
  CHECK((*events)[0].type == "stage");
  CHECK((*events)[1].type == "init");
  CHECK((*events)[1].text("rotation") == "none");
  CHECK(read_text(host.dir / "imgroot/events.jsonl").ends_with("\"rotation\":\"none\"}\n"));
}

TEST_CASE("the init creates imgroot/ for its event on a host partition without one",
          "[init][events]") {
  HostDir host({"hn-root.img"});
  BootRecord record;
  record.rotation = "none";
  REQUIRE(append_boot_record(host.fd.get(), record, kTime, kBootId));
  CHECK(read_text(host.dir / "imgroot/events.jsonl") ==
        std::string("{\"time\":\"") + kTime + "\",\"event\":\"init\",\"boot_id\":\"" + kBootId +
            "\",\"rotation\":\"none\"}\n");
}
