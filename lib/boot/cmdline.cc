#include "boot/cmdline.h"

#include <algorithm>
#include <charconv>

#include "base/layout.h"
#include "base/names.h"

namespace imgroot {

namespace {

constexpr EnumName<Overlay> kOverlayNames[] = {
    {Overlay::kNone, "none"}, {Overlay::kTmpfs, "tmpfs"}, {Overlay::kPersistent, "persistent"}};

}  // namespace

const char* overlay_name(Overlay overlay) { return enum_name(kOverlayNames, overlay, "none"); }

std::vector<std::string> split_cmdline(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  bool in_quotes = false, in_word = false;
  for (char c : text) {
    if (c == '"') {
      in_quotes = !in_quotes;
      in_word = true;
    } else if (!in_quotes && (c == ' ' || c == '\t' || c == '\n')) {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else {
      word.push_back(c);
      in_word = true;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

namespace {

class Parser {
 public:
  ParsedCmdline result;

  void word(const std::string& w) {
    auto eq = w.find('=');
    std::string key = w.substr(0, eq);
    std::string value = eq == std::string::npos ? "" : w.substr(eq + 1);
    bool has_value = eq != std::string::npos;
    BootConfig& c = result.config;

    if (key == "imgroot.hostpart") {
      explicit_hostpart_ = hostpart(w, value) || explicit_hostpart_;
    } else if (key == "raw_loop_root_host_partition") {
      if (!explicit_hostpart_) hostpart(w, value);
    } else if (key == "root" && value.starts_with("imgroot:")) {
      // The dracut module's spelling: root=imgroot:SPEC names the host
      // partition (a bare root=imgroot keeps the default). Other root=
      // values are for other initramfs code and ignored.
      if (!explicit_hostpart_) hostpart(w, value.substr(8));
    } else if (key == "imgroot.image") {
      image(key, value);
    } else if (key == "real_root") {
      // genkernel's loop root: the image's path on the host partition.
      if (!result.config.image) image(key, value.starts_with("/") ? value.substr(1) : value);
    } else if (key == "imgroot.revert") {
      if (!has_value || value == "1" || value == "yes" || value == "true") c.revert = true;
      else if (value == "0" || value == "no" || value == "false") c.revert = false;
      else warn(key, value, "off");
    } else if (key == "imgroot.unstage") {
      if (!has_value || value == "1" || value == "yes" || value == "true") c.unstage = true;
      else if (value == "0" || value == "no" || value == "false") c.unstage = false;
      else warn(key, value, "off");
    } else if (key == "imgroot.broken") {
      if (boot_name(value)) {
        if (std::find(c.broken.begin(), c.broken.end(), value) == c.broken.end())
          c.broken.push_back(value);
      } else {
        result.warnings.push_back(key + "=" + value + ": not " + names() + "; ignored");
      }
    } else if (key == "imgroot.overlay") {
      if (value == "0") c.overlay = Overlay::kNone;
      else if (auto overlay = enum_value(kOverlayNames, value)) c.overlay = *overlay;
      else warn(key, value, "none");
    } else if (key == "imgroot.timeout") {
      int seconds = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
      if (ec == std::errc() && end == value.data() + value.size() && seconds >= 0 &&
          seconds <= 3600)
        c.timeout_seconds = seconds;
      else warn(key, value, std::to_string(BootConfig{}.timeout_seconds));
    } else if (key == "init") {
      if (value.starts_with("/")) c.init = value;
      else warn(key, value, c.init);
    } else if (key == "rootflags") {
      c.rootflags = value;
    } else if (w == "ro") {
      c.read_only = true;
    } else if (w == "rw") {
      c.read_only = false;
    }
  }

 private:
  // 'word' is the whole word, for the warning; 'value' the spec in it.
  bool hostpart(const std::string& word, const std::string& value) {
    auto spec = parse_device_spec(value);
    if (spec) {
      result.config.hostpart = *spec;
      return true;
    }
    result.warnings.push_back(word + ": " + spec.error().message + "; using " +
                              result.config.hostpart.to_string());
    return false;
  }

  static bool boot_name(const std::string& value) {
    using namespace host_files;
    return value == kCurrent || value == kNew || value == kOld;
  }

  static std::string names() {
    using namespace host_files;
    return std::string(kCurrent) + ", " + kNew + " or " + kOld;
  }

  void image(const std::string& key, const std::string& value) {
    if (boot_name(value)) {
      result.config.image = value;
      return;
    }
    result.warnings.push_back(key + "=" + value + ": not " + names() +
                              "; not cross-checking the image");
  }

  void warn(const std::string& key, const std::string& value, const std::string& fallback) {
    result.warnings.push_back(key + "=" + value + ": malformed; using " + fallback);
  }

  bool explicit_hostpart_ = false;
};

}  // namespace

ParsedCmdline parse_cmdline(std::string_view text) {
  Parser p;
  for (const auto& w : split_cmdline(text)) p.word(w);
  return std::move(p.result);
}

}  // namespace imgroot
