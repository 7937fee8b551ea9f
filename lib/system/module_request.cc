#include "system/module_request.h"

namespace imgroot {

namespace {
ModuleLoader installed = nullptr;
}  // namespace

void install_module_loader(ModuleLoader loader) { installed = loader; }

void request_module(std::string_view name) {
  if (installed) installed(name);
}

}  // namespace imgroot
