// imgroot mark-good | mark-bad: the boot assessment of the running image.
// The two verbs differ only in the verdict, so they share this file.
#include <iostream>

#include "hostpart_option.h"
#include "state/assessment.h"
#include "verbs.h"

namespace imgroot::cli {

namespace {

int run_mark(const std::string& verb, state::Assessment verdict,
             const std::vector<std::string>& args) {
  po::options_description options;
  add_hostpart_option(options);
  const std::string description =
      std::string("Record that the running image is ") + state::assessment_name(verdict) +
      " in the host partition's imgroot/state.json. The running image is the one /\n"
      "is backed by when it is on the host partition; otherwise (offline, or / is\n"
      "not an image) hn-root.img, the image the next boot starts when nothing is\n"
      "staged.";
  auto parsed = parse(verb, args, options, {}, verb + " [--hostpart DIR]", description);
  if (parsed.exit_now) return *parsed.exit_now;

  auto hostpart = open_hostpart(parsed.vars);
  if (!hostpart) return report(std::move(hostpart.error()).context(verb));
  auto marked = state::mark_image(*hostpart, state::SystemPaths{}, verdict);
  if (!marked) return report(std::move(marked.error()).context(verb));
  std::cout << "marked " << *marked << " " << state::assessment_name(verdict) << "\n";
  return kExitOk;
}

}  // namespace

int run_mark_good(const std::vector<std::string>& args) {
  return run_mark("mark-good", state::Assessment::kGood, args);
}

int run_mark_bad(const std::vector<std::string>& args) {
  return run_mark("mark-bad", state::Assessment::kBad, args);
}

}  // namespace imgroot::cli
