// The one file that adapts Boost.Program_options' exceptions.
#include <charconv>
#include <cstdlib>
#include <iostream>

#include "cli.h"

namespace imgroot::cli {

Result<std::optional<std::int64_t>> source_date_epoch() {
  const char* epoch = std::getenv("SOURCE_DATE_EPOCH");
  if (!epoch || !*epoch) return std::optional<std::int64_t>();
  std::string_view text(epoch);
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0)
    return fail("read SOURCE_DATE_EPOCH " + quoted(epoch) + ": not a number of seconds");
  return std::optional<std::int64_t>(value);
}

int report(const Error& error) {
  std::cerr << "imgroot: " << error.message << "\n";
  return kExitFailure;
}

int usage_error(const std::string& verb, const std::string& message) {
  std::cerr << "imgroot " << verb << ": " << message << " (see 'imgroot " << verb
            << " --help')\n";
  return kExitUsage;
}

Parsed parse(const std::string& verb, const std::vector<std::string>& args,
             const po::options_description& options, const std::vector<Positional>& positional,
             const std::string& usage, const std::string& description) {
  po::positional_options_description in_order;
  for (const auto& p : positional) in_order.add(p.option.c_str(), p.count);
  po::options_description all("Options");
  all.add_options()("help,h", "show this help and exit");
  all.add(options);
  Parsed parsed;
  try {
    po::store(po::command_line_parser(args).options(all).positional(in_order).run(),
              parsed.vars);
    if (parsed.vars.count("help")) {
      std::cout << "Usage: imgroot " << usage << "\n\n" << description << "\n\n" << all;
      parsed.exit_now = kExitOk;
      return parsed;
    }
    po::notify(parsed.vars);
  } catch (const po::error& e) {
    parsed.exit_now = usage_error(verb, e.what());
  }
  return parsed;
}

}  // namespace imgroot::cli
