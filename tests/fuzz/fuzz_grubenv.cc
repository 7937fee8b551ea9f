// GRUB's environment block and the boot trial kept in it: lib/grub/env.cc,
// lib/grub/trial.cc.
#include <string>

#include "fuzz.h"
#include "grub/env.h"
#include "grub/trial.h"

using namespace imgroot;
using namespace imgroot::grub;
using imgroot::fuzz::check;

namespace {

// Formatted into a block of 'size' bytes (when it fits) and parsed back,
// the variables are the same.
void check_round_trip(const Env& env, std::size_t size) {
  auto block = format_env(env, size);
  if (!block) return;
  check(block->size() == size, "a formatted block has exactly the requested size");
  auto back = parse_env(*block);
  check(back && *back == env, "parse(format(env)) == env");
}

void check_trial(Env env, int tries) {
  Trial before = read_trial(env);
  check(!describe_trial(before).empty(), "a trial is described");
  if (before.tries_left) check(*before.tries_left >= 0 && *before.tries_left <= kMaxTries, "tries are 0 to 9");
  if (before.unknown_phase) check(before.phase == Phase::kCounting, "an unknown phase counts");

  Env exhausted = env;
  exhaust_trial(exhausted);
  if (before.phase == Phase::kCounting) check(read_trial(exhausted).tries_left == 0, "mark-bad leaves no try");
  else check(exhausted == env, "mark-bad without a counting trial changes nothing");

  Env started = env;
  auto st = start_trial(started, tries);
  check(bool(st) == (tries >= 1 && tries <= kMaxTries), "a trial has 1 to 9 tries");
  if (st) {
    Trial t = read_trial(started);
    check(t.phase == Phase::kCounting && !t.unknown_phase && t.tries_left == tries, "a started trial counts its tries");
  }
  end_trial(started);
  check(read_trial(started).phase == Phase::kNone, "an ended trial is none");
  check(!started.get(kTrialVar) && !started.get(kTriesVar), "an ended trial leaves no variable");
  check_round_trip(started, kEnvBlockSize);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  const int tries = size ? static_cast<int>(data[0] % 12) - 1 : 3;

  // The input as a block.
  if (auto env = parse_env(text)) {
    for (const auto& [name, value] : env->vars()) {
      (void)value;
      check(name.find('\n') == std::string::npos && name.find('=') == std::string::npos,
            "a parsed name has no newline and no '='");
    }
    check_round_trip(*env, std::max(size, kEnvBlockSize));
    check_trial(*env, tries);
  }

  // The input as name=value lines that need not be a block: values with
  // any byte, names as GRUB can store them.
  Env made;
  std::size_t p = 0;
  while (p < text.size()) {
    std::size_t nl = text.find('\n', p);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(p, nl - p);
    std::size_t eq = line.find('=');
    std::string_view name = line.substr(0, eq);
    std::string value = eq == std::string_view::npos ? "" : std::string(line.substr(eq + 1));
    for (char& c : value)
      if (c == '\x01') c = '\n';  // newlines in values too
    if (valid_env_name(name)) made.set(name, value);
    else check(!format_env([&] { Env e; e.set(name, value); return e; }()), "a bad name is not written");
    p = nl + 1;
  }
  check_round_trip(made, kEnvBlockSize);
  check_round_trip(made, 4 * kEnvBlockSize);
  check_trial(made, tries);
  return 0;
}
