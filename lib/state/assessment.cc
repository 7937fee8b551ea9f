#include "state/assessment.h"

#include "base/layout.h"
#include "state/status.h"
#include "system/file.h"

namespace imgroot::state {

Result<std::string> mark_image(const Hostpart& hostpart, const SystemPaths& paths,
                               Assessment verdict) {
  const int dir = hostpart.dir.get();
  Booted booted = find_booted(hostpart, paths);
  std::string name = booted.from_this_hostpart ? *booted.image : host_files::kCurrent;
  auto st = stat_at(dir, name);
  if (!st) return std::unexpected(st.error());
  if (!*st) return fail("mark " + quoted(name) + ": there is no such image on " + hostpart.path);

  auto state = load_state(dir);
  if (!state) return std::unexpected(state.error());
  ImageRecord* r = state->find(**st);
  if (!r) {
    state->images.push_back(record_for(**st));
    r = &state->images.back();
  }
  r->assessment = verdict;
  r->assessed_at = now_rfc3339();
  if (auto saved = save_state(dir, std::move(*state)); !saved)
    return std::unexpected(saved.error());
  return name;
}

}  // namespace imgroot::state
