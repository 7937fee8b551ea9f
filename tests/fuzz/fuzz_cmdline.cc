// The kernel command line as imgroot-init (PID 1) reads it, and the device
// specs in it: lib/boot/cmdline.cc, lib/boot/device_spec.cc.
#include <algorithm>
#include <string>

#include "boot/cmdline.h"
#include "boot/device_spec.h"
#include "base/layout.h"
#include "fuzz.h"

using namespace imgroot;
using imgroot::fuzz::check;

namespace {

// What the words hold, by a reading independent of split_cmdline: every
// byte but the quotes and the separators outside quotes, in order.
std::string kept_bytes(std::string_view text) {
  std::string out;
  bool quoted = false;
  for (char c : text) {
    if (c == '"') quoted = !quoted;
    else if (quoted || (c != ' ' && c != '\t' && c != '\n')) out += c;
  }
  return out;
}

void check_spec(std::string_view text) {
  auto spec = parse_device_spec(text);
  if (!spec) {
    check(!spec.error().message.empty(), "a refused spec says why");
    return;
  }
  check(!spec->value.empty(), "an accepted spec has a value");
  const std::string& v = spec->value;
  check(spec->matches(v), "a spec matches its own value");
  if (spec->kind == DeviceSpec::Kind::kPath) check(v.starts_with("/dev/") && v.size() > 5, "a path is below /dev/");
  // Printed back and parsed again it is the same spec, unless the value
  // itself was quoted twice (the outer pair was removed once).
  if (!(v.size() >= 2 && v.front() == '"' && v.back() == '"')) {
    auto again = parse_device_spec(spec->to_string());
    check(again && *again == *spec, "parse(to_string(spec)) == spec");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);

  auto words = split_cmdline(text);
  std::string joined;
  for (const auto& w : words) {
    check(w.find('"') == std::string::npos, "no quote survives splitting");
    joined += w;
  }
  check(joined == kept_bytes(text), "the words hold every byte but quotes and separators");

  ParsedCmdline parsed = parse_cmdline(text);
  const BootConfig& c = parsed.config;
  check(c.init.starts_with("/"), "init is absolute");
  check(c.timeout_seconds >= 0 && c.timeout_seconds <= 3600, "the timeout is 0 to 3600 s");
  check(!c.hostpart.value.empty(), "the host partition spec has a value");
  check(c.hostpart.value.find('"') == std::string::npos, "no quote in the host partition spec");
  if (c.image) {
    using namespace host_files;
    check(*c.image == kCurrent || *c.image == kNew || *c.image == kOld, "image is one of the three names");
  }
  for (const auto& w : parsed.warnings) check(!w.empty(), "a warning says something");
  check(parse_cmdline(text).warnings == parsed.warnings, "parsing is deterministic");

  check_spec(text);
  for (const auto& w : words) check_spec(w);
  return 0;
}
