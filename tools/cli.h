// What every verb of the imgroot CLI shares: exit codes, error reporting and
// the adapter around Boost.Program_options (which throws; nothing else here does).
#pragma once

#include <boost/program_options.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"

namespace imgroot::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the operation failed; stderr says why
inline constexpr int kExitUsage = 2;    // the command line was wrong

namespace po = boost::program_options;

struct Verb {
  const char* name;
  const char* summary;  // one line, for `imgroot --help`
  int (*run)(const std::vector<std::string>& args);
};

// Print "imgroot: <message>" on stderr and return kExitFailure.
int report(const Error& error);
// Print "imgroot <verb>: <message>" and a hint to --help; return kExitUsage.
int usage_error(const std::string& verb, const std::string& message);

// SOURCE_DATE_EPOCH (reproducible builds' convention), when it is set.
Result<std::optional<std::int64_t>> source_date_epoch();

// The outcome of parsing a verb's arguments: either the options, or an exit
// code to return right away (after --help, or on a usage error).
struct Parsed {
  po::variables_map vars;
  std::optional<int> exit_now;
};

// A positional argument: the option it fills, and how many words it takes
// (-1: all the rest).
struct Positional {
  std::string option;
  int count = 1;
};

// Parse 'args' against 'options' (plus --help) and 'positional', in order.
// `usage` is the synopsis line shown by --help, `description` the paragraph after it.
Parsed parse(const std::string& verb, const std::vector<std::string>& args,
             const po::options_description& options, const std::vector<Positional>& positional,
             const std::string& usage, const std::string& description);

}  // namespace imgroot::cli
