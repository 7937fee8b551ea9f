#include "boot_trial.h"

#include "esp_option.h"

namespace imgroot::cli {

Result<std::optional<grub::Trial>> update_trial(const po::variables_map& vars,
                                                const std::function<Status(grub::Env&)>& change) {
  auto esp = open_esp_option(vars);
  if (!esp) return std::unexpected(esp.error());
  if (!*esp) return std::optional<grub::Trial>();
  auto env = grub::load_grubenv(**esp);
  if (!env) return std::unexpected(env.error());
  grub::Env edited = *env;
  if (auto st = change(edited); !st) return std::unexpected(st.error());
  // The file is written even when nothing changed but it is missing: GRUB
  // cannot create it, and needs it to count.
  auto exists = grub::ensure_grubenv(**esp);
  if (!exists) return std::unexpected(exists.error());
  if (edited != *env) {
    if (auto st = grub::save_grubenv(**esp, edited); !st) return std::unexpected(st.error());
  }
  return std::optional<grub::Trial>(grub::read_trial(edited));
}

Result<std::optional<grub::Trial>> read_trial(const po::variables_map& vars) {
  auto esp = open_esp_option(vars);
  if (!esp) return std::unexpected(esp.error());
  if (!*esp) return std::optional<grub::Trial>();
  auto env = grub::load_grubenv(**esp);
  if (!env) return std::unexpected(env.error());
  return std::optional<grub::Trial>(grub::read_trial(*env));
}

}  // namespace imgroot::cli
