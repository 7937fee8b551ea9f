#include "esp_option.h"

#include <fcntl.h>

#include "system/file.h"

namespace imgroot::cli {

void add_esp_option(po::options_description& options) {
  options.add_options()("esp", po::value<std::string>()->value_name("DIR"),
                        "the mounted EFI-BOOT partition holding grub/grubenv (default: "
                        "/boot/loader)");
}

bool esp_given(const po::variables_map& vars) { return vars.count("esp") > 0; }

Result<std::optional<grub::Esp>> open_esp_option(const po::variables_map& vars) {
  if (esp_given(vars)) {
    auto esp = grub::open_esp(vars["esp"].as<std::string>());
    if (!esp) return std::unexpected(esp.error());
    return std::optional<grub::Esp>(std::move(*esp));
  }
  auto grub_dir = exists_at(AT_FDCWD, std::string(grub::kDefaultEsp) + "/" + grub::kGrubDir);
  if (!grub_dir || !*grub_dir) return std::optional<grub::Esp>();
  auto esp = grub::open_esp(grub::kDefaultEsp);
  if (!esp) return std::unexpected(esp.error());
  return std::optional<grub::Esp>(std::move(*esp));
}

}  // namespace imgroot::cli
