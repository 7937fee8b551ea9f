#include "esp_option.h"

#include <fcntl.h>

#include "grub/esp.h"
#include "system/file.h"

namespace imgroot::cli {

void add_esp_option(po::options_description& options) {
  options.add_options()("esp", po::value<std::string>()->value_name("DIR"),
                        "the mounted EFI-BOOT partition holding grub/grubenv (default: "
                        "/boot/loader)");
}

bool esp_given(const po::variables_map& vars) { return vars.count("esp") > 0; }

std::optional<std::string> esp_option(const po::variables_map& vars) {
  if (esp_given(vars)) return vars["esp"].as<std::string>();
  auto grub_dir = exists_at(AT_FDCWD, std::string(grub::kDefaultEsp) + "/" + grub::kGrubDir);
  if (!grub_dir || !*grub_dir) return std::nullopt;
  return std::string(grub::kDefaultEsp);
}

}  // namespace imgroot::cli
