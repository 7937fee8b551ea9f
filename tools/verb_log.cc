// imgroot log [--json] [-n N]: the event log of the host partition
// (state/event_log.h, docs/assessment.md).
#include <iostream>

#include "hostpart_option.h"
#include "state/event_log.h"
#include "verbs.h"

namespace imgroot::cli {

int run_log(const std::vector<std::string>& args) {
  po::options_description options;
  options.add_options()("json", po::bool_switch(), "one JSON object a line, as stored")(
      "lines,n", po::value<int>()->value_name("N"), "only the last N events");
  add_hostpart_option(options);
  auto parsed = parse("log", args, options, {}, "log [--hostpart DIR] [--json] [-n N]",
                      "Print the event log kept in imgroot/events.jsonl on the host partition:\n"
                      "what the init did at each boot, boots, images given up, stages, reverts,\n"
                      "verdicts and marks, oldest first, one line an event, time first. A line\n"
                      "a power cut left torn is skipped.");
  if (parsed.exit_now) return *parsed.exit_now;
  const auto& vars = parsed.vars;
  if (vars.count("lines") && vars["lines"].as<int>() < 0)
    return usage_error("log", "-n " + std::to_string(vars["lines"].as<int>()) + ": not a count");

  auto hostpart = open_hostpart(vars);
  if (!hostpart) return report(std::move(hostpart.error()).context("log"));
  auto events = state::read_events(hostpart->dir.get());
  if (!events) return report(std::move(events.error()).context("log"));
  std::size_t first = 0;
  if (vars.count("lines")) {
    auto n = static_cast<std::size_t>(vars["lines"].as<int>());
    if (n < events->size()) first = events->size() - n;
  }
  const bool json = vars["json"].as<bool>();
  for (std::size_t i = first; i < events->size(); ++i)
    std::cout << (json ? state::event_to_json((*events)[i]) : state::event_to_text((*events)[i]))
              << "\n";
  return kExitOk;
}

}  // namespace imgroot::cli
