// The event log (state/event_log.h) and the known-bad images
// (state/known_bad.h) on a host partition directory.
#include <catch2/catch.hpp>

#include "state/event_log.h"
#include "state/explain.h"
#include "state/known_bad.h"
#include "state/state_file.h"
#include "system/fd.h"
#include "test_support.h"

using namespace imgroot;
using namespace imgroot::state;
using namespace imgroot::test;

namespace {

using Host = HostDir;

Event numbered(int n) {
  return {"2026-01-01T00:00:00Z", "stage", {{"n", std::int64_t{n}}, {"image", std::string("x")}}};
}

std::int64_t n_of(const Event& e) { return std::get<std::int64_t>(e.fields.at(0).second); }

}  // namespace

TEST_CASE("events are appended as JSON lines and read back in order", "[events]") {
  Host host;
  REQUIRE(append_event(host.fd.get(), numbered(1)));
  REQUIRE(append_event(host.fd.get(), {"", "verdict",
                                       {{"result", std::string("red")},
                                        {"failed", std::vector<std::string>{"required/a (exit 1)"}},
                                        {"forced", false}}}));
  auto events = read_events(host.fd.get());
  REQUIRE(events);
  REQUIRE(events->size() == 2);
  CHECK(n_of((*events)[0]) == 1);
  CHECK((*events)[1].type == "verdict");
  CHECK((*events)[1].list("failed") == std::vector<std::string>{"required/a (exit 1)"});
  CHECK_FALSE((*events)[1].time.empty());
  CHECK(event_to_text((*events)[1]).ends_with(
      " verdict result=red failed=[required/a (exit 1)] forced=no"));
  auto lines = read_text(host.dir / "imgroot/events.jsonl");
  CHECK(lines.starts_with("{\"time\":\"2026-01-01T00:00:00Z\",\"event\":\"stage\",\"n\":1,"));
}

TEST_CASE("the log rotates to events.jsonl.1 at its cap and keeps the latest events", "[events]") {
  Host host;
  const std::uint64_t cap = 300;
  for (int i = 1; i <= 12; ++i) REQUIRE(append_event(host.fd.get(), numbered(i), cap));
  CHECK(stat_of(host.dir / "imgroot/events.jsonl").st_size <= static_cast<off_t>(cap));
  CHECK(stat_of(host.dir / "imgroot/events.jsonl.1").st_size <= static_cast<off_t>(cap));
  auto events = read_events(host.fd.get());
  REQUIRE(events);
  REQUIRE(events->size() >= 4);
  CHECK(n_of(events->back()) == 12);
  for (std::size_t i = 1; i < events->size(); ++i)
    CHECK(n_of((*events)[i]) == n_of((*events)[i - 1]) + 1);
}

TEST_CASE("a last line torn by a power cut is skipped, and the next event starts a line",
          "[events]") {
  Host host;
  REQUIRE(append_event(host.fd.get(), numbered(1)));
  {
    std::ofstream out(host.dir / "imgroot/events.jsonl", std::ios::app);
    out << "{\"time\":\"2026-01-01T00:00:00Z\",\"ev";
  }
  auto torn = read_events(host.fd.get());
  REQUIRE(torn);
  CHECK(torn->size() == 1);
  REQUIRE(append_event(host.fd.get(), numbered(2)));
  auto events = read_events(host.fd.get());
  REQUIRE(events);
  REQUIRE(events->size() == 2);
  CHECK(n_of((*events)[1]) == 2);
}

TEST_CASE("no event log reads as no events", "[events]") {
  Host host;
  auto events = read_events(host.fd.get());
  REQUIRE(events);
  CHECK(events->empty());
}

TEST_CASE("an image that became hn-root-broken.img is remembered and refused by its SHA-256",
          "[events][known-bad]") {
  Host host;
  write_text(host.dir / "hn-root-broken.img", "bad image");
  StateFile state;
  ImageRecord r = record_for(stat_of(host.dir / "hn-root-broken.img"));
  r.sha256 = "abc123";
  r.source = "/srv/new.img";
  r.staged_at = "2026-01-01T00:00:00Z";
  r.assessment = Assessment::kBad;
  state.images.push_back(r);
  REQUIRE(save_state(host.fd.get(), state));

  // The broken image is gone: its SHA-256 stays in state.json.
  REQUIRE(::unlink((host.dir / "hn-root-broken.img").c_str()) == 0);
  auto loaded = load_state(host.fd.get());
  REQUIRE(loaded);
  REQUIRE(loaded->rejected.size() == 1);
  CHECK(loaded->rejected[0].source == "/srv/new.img");

  auto refused = refuse_known_bad(*loaded, "abc123", false);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.find("from /srv/new.img") != std::string::npos);
  CHECK(refused.error().message.find("marked bad by its boot assessment") != std::string::npos);
  CHECK(refused.error().message.find("--force") != std::string::npos);
  CHECK(refuse_known_bad(*loaded, "abc123", true));
  CHECK(refuse_known_bad(*loaded, "other", false));
  CHECK(refuse_known_bad(*loaded, "", false));
}

TEST_CASE("status explains a given-up image: why, since when, and its last failed check",
          "[events][explain]") {
  HostStatus s;
  ImageStatus broken;
  broken.name = "hn-root-broken.img";
  broken.present = true;
  broken.record = ImageRecord{};
  broken.record->sha256 = "3f2a9c01d2e4ffff";
  s.images.push_back(broken);
  StateFile state;
  state.rejected.push_back({"3f2a9c01d2e4ffff", "/srv/app-2.img", "2026-01-01T00:00:00Z",
                            "2026-01-01T01:00:00Z", Assessment::kNone});
  std::vector<Event> events{
      {"t1", "stage", {{"sha256", std::string("3f2a9c01d2e4ffff")}, {"tries", std::int64_t{3}}}},
      {"t2", "verdict",
       {{"result", std::string("red")},
        {"failed", std::vector<std::string>{"required/50-nginx (exit 1)"}},
        {"sha256", std::string("3f2a9c01d2e4ffff")}}},
  };
  auto why = explain_rollback(s, state, events);
  REQUIRE(why.size() == 1);
  CHECK(why[0] ==
        "hn-root-broken.img (sha256 3f2a9c01d2e4..., from /srv/app-2.img) was given up after 3 "
        "boots without a good verdict; back on hn-root.img since 2026-01-01T01:00:00Z; its last "
        "failed check: required/50-nginx (exit 1)");
  state.rejected.clear();
  CHECK(explain_rollback(s, state, events).empty());
}
