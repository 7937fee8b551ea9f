// The event log on the host partition (docs/assessment.md, "The event log"):
// imgroot/events.jsonl, one JSON object a line, appended durably, rotated to
// events.jsonl.1 when the next line would take it past its cap, so the two
// hold the latest events in at most twice the cap.
//
// Events: "init" (imgroot-init's record of each boot, written before it
// switches root by init/boot_record.h, without this file), "boot" (the
// running system's record of each boot), "stage", "revert", "mark"
// (mark-good/mark-bad), "verdict" (the assessment's, with the failed
// checks). Each has "time" (RFC 3339 UTC) and "event"; the rest are fields.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "base/error.h"

namespace imgroot::state {

using EventValue = std::variant<std::string, std::int64_t, bool, std::vector<std::string>>;

struct Event {
  std::string time;
  std::string type;
  std::vector<std::pair<std::string, EventValue>> fields;

  // The value of a string field; empty when absent.
  std::string text(const std::string& key) const;
  // A list field; empty when absent.
  std::vector<std::string> list(const std::string& key) const;
};

inline constexpr std::uint64_t kEventLogCap = 1024 * 1024;

// Append 'event' (its time set now when empty) to the log on the host
// partition open as 'hostpart_dir': fsync the file, and the directory when
// the file was created or rotated. A last line left torn by a power cut is
// ended first, so the new event is a line of its own.
Status append_event(int hostpart_dir, Event event, std::uint64_t cap = kEventLogCap);

// Every event that reads back whole, oldest first; lines that do not parse
// (a torn last line) are skipped. No log: no events.
Result<std::vector<Event>> read_events(int hostpart_dir);

// One line for people, time first: "2026-11-21T20:38:21Z verdict result=red failed=[...]".
std::string event_to_text(const Event& event);

// The JSON line and back (state/json.cc); nullopt-like error for a line that does not parse.
std::string event_to_json(const Event& event);
Result<Event> event_from_json(const std::string& line);

}  // namespace imgroot::state
