#include "hostpart_option.h"

namespace imgroot::cli {

void add_hostpart_option(po::options_description& options) {
  options.add_options()("hostpart", po::value<std::string>()->value_name("DIR"),
                        "the mounted host partition to work on (default: where the partition "
                        "labelled 'hostpart' is mounted, else /hostpart)");
}

Result<state::Hostpart> open_hostpart(const po::variables_map& vars) {
  std::optional<std::string> given;
  if (vars.count("hostpart")) given = vars["hostpart"].as<std::string>();
  return state::open_hostpart(given, state::SystemPaths{});
}

}  // namespace imgroot::cli
