// imgroot: the command line of the running node (docs/design.md section 4).
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "cli.h"
#include "verbs.h"

namespace {

void print_help() {
  std::cout << "Usage: imgroot VERB [OPTIONS...]\n\n"
               "Boot manager for nodes whose root filesystem is an image file on the\n"
               "partition labelled 'hostpart'.\n\nVerbs:\n";
  for (const auto& verb : imgroot::cli::verbs())
    std::cout << "  " << verb.name << std::string(14 - std::string(verb.name).size(), ' ')
              << verb.summary << "\n";
  std::cout << "\n'imgroot VERB --help' describes each verb.\n";
}

}  // namespace

int main(int argc, char** argv) {
  using namespace imgroot::cli;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    print_help();
    return kExitUsage;
  }
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    print_help();
    return kExitOk;
  }
  if (args[0] == "--version") {
    std::cout << "imgroot " << IMGROOT_VERSION << "\n";
    return kExitOk;
  }
  for (const auto& verb : verbs()) {
    if (args[0] != verb.name) continue;
    // Errors come back as results; an exception is a bug (or the library
    // runtime out of memory or threads). Caught, the stack unwinds, so a
    // partial copy or a mount goes with its owner, and the user reads one
    // line instead of a core dump.
    try {
      return verb.run({args.begin() + 1, args.end()});
    } catch (const std::exception& e) {
      std::cerr << "imgroot: internal error: " << e.what() << "\n";
    } catch (...) {
      std::cerr << "imgroot: internal error: an unknown exception\n";
    }
    return kExitFailure;
  }
  std::cerr << "imgroot: unknown verb '" << args[0] << "' (see 'imgroot --help')\n";
  return kExitUsage;
}
