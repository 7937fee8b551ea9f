// /etc/imgroot/grub.conf and the GRUB script made with it:
// lib/grub/config.cc. The input is a settings file.
#include <string>

#include "fuzz.h"
#include "grub/config.h"

using namespace imgroot;
using namespace imgroot::grub;
using imgroot::fuzz::check;

namespace {

// The kernel arguments are exactly the content of one single-quoted word,
// and everything else is the script made without them: no injection.
void check_script(const ConfigOptions& options) {
  auto script = generate_config(options, "fuzz");
  check(bool(script), "checked options make a script");
  ConfigOptions plain = options;
  plain.cmdline.clear();
  auto expected = generate_config(plain, "fuzz");
  check(bool(expected), "options without arguments make a script");
  const std::string line = "\nset imgroot_cmdline='" + options.cmdline + "'\n";
  const std::string empty = "\nset imgroot_cmdline=''\n";
  auto at = script->find(line);
  check(at != std::string::npos, "the arguments are one single-quoted word");
  std::string rest = *script;
  rest.replace(at, line.size(), empty);
  check(rest == *expected, "the arguments change nothing else");
  if (!options.snippet)
    check(script->find("\nset timeout=" + std::to_string(options.timeout) + "\n") != std::string::npos,
          "grub.cfg sets the timeout");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  for (bool snippet : {false, true}) {
    ConfigOptions options;
    options.snippet = snippet;
    auto st = apply_settings(text, options);
    if (!st) {
      check(st.error().message.starts_with("line ") || st.error().message.starts_with("timeout ") ||
                st.error().message.starts_with("kernel arguments "),
            "a refused setting says where or what");
      continue;
    }
    check(options.timeout >= 0 && options.timeout <= 3600, "the timeout is 0 to 3600 s");
    for (char c : options.cmdline)
      check(c != '\'' && static_cast<unsigned char>(c) >= 0x20 && c != 0x7f, "no quote or control character");
    check_script(options);
  }
  // The input as the arguments themselves.
  ConfigOptions raw;
  raw.cmdline = std::string(text);
  if (check_options(raw)) check_script(raw);
  else check(!generate_config(raw, "fuzz"), "unchecked arguments make no script");
  return 0;
}
