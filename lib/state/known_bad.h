// Never stage the same broken image twice by accident (docs/assessment.md,
// "Healing"): an image that became hn-root-broken.img is remembered in
// state.json by its SHA-256, and `imgroot stage` refuses a copy with the
// same SHA-256 unless --force. A reflinked copy staged without --hash has no
// SHA-256 and cannot be recognised.
#pragma once

#include <string>

#include "base/error.h"
#include "state/state_file.h"

namespace imgroot::state {

// Add hn-root-broken.img to state.rejected when its record has a SHA-256
// that is not there yet (the oldest entries go past kMaxRejected). Returns
// whether it added one.
Result<bool> remember_broken(int hostpart_dir, StateFile& state);

// The entry of 'state.rejected' with this SHA-256; nullptr when none (or
// when 'sha256' is empty).
const Rejected* find_rejected(const StateFile& state, const std::string& sha256);

// Refuse an image whose SHA-256 is one given up before, naming when and
// why, unless 'force'.
Status refuse_known_bad(const StateFile& state, const std::string& sha256, bool force);

// "given up after its boot trial ran out without a verdict", "marked bad by its
// boot assessment".
std::string given_up_reason(const Rejected& rejected);

}  // namespace imgroot::state
