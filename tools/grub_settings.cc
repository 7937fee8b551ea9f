#include "grub_settings.h"

#include "system/file.h"

namespace imgroot::cli {

void add_grub_settings_options(po::options_description& options) {
  options.add_options()("timeout", po::value<int>()->value_name("SECONDS"),
                        "how long the menu waits (default 5)")(
      "cmdline", po::value<std::string>()->value_name("ARGS"), "extra kernel arguments")(
      "config", po::value<std::string>()->value_name("FILE"),
      "the settings file (default /etc/imgroot/grub.conf)");
}

Result<grub::ConfigOptions> load_grub_settings(const po::variables_map& vars) {
  grub::ConfigOptions options;
  const bool explicit_config = vars.count("config") > 0;
  const std::string path =
      explicit_config ? vars["config"].as<std::string>() : grub::kDefaultSettings;
  auto text = read_file(path);
  if (text) {
    if (auto st = grub::apply_settings(*text, options); !st)
      return std::unexpected(std::move(st.error()).context(quoted(path)));
  } else if (explicit_config || text.error().code != ENOENT) {
    return std::unexpected(text.error());
  }
  if (vars.count("timeout")) options.timeout = vars["timeout"].as<int>();
  if (vars.count("cmdline")) options.cmdline = vars["cmdline"].as<std::string>();
  if (auto st = grub::check_options(options); !st) return std::unexpected(st.error());
  return options;
}

}  // namespace imgroot::cli
