#include "log_event.h"

#include <iostream>

namespace imgroot::cli {

void log_event(const state::Hostpart& hostpart, state::Event event) {
  if (auto st = state::append_event(hostpart.dir.get(), std::move(event)); !st)
    std::cerr << "imgroot: warning: event log: " << st.error().message << "\n";
}

}  // namespace imgroot::cli
