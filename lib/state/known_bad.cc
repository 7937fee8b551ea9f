#include "state/known_bad.h"

#include "base/layout.h"
#include "system/file.h"

namespace imgroot::state {

Result<bool> remember_broken(int dir, StateFile& state) {
  auto st = stat_at(dir, host_files::kBroken);
  if (!st) return std::unexpected(st.error());
  if (!*st) return false;
  const ImageRecord* r = state.find(**st);
  if (!r || r->sha256.empty() || find_rejected(state, r->sha256)) return false;
  Rejected entry;
  entry.sha256 = r->sha256;
  entry.source = r->source;
  entry.staged_at = r->staged_at;
  // Becoming hn-root-broken.img was its last rename: its inode's change time.
  entry.given_up_at = format_rfc3339(static_cast<std::int64_t>((*st)->st_ctim.tv_sec));
  entry.assessment = r->assessment;
  state.rejected.push_back(std::move(entry));
  if (state.rejected.size() > kMaxRejected)
    state.rejected.erase(state.rejected.begin(),
                         state.rejected.end() - static_cast<std::ptrdiff_t>(kMaxRejected));
  return true;
}

const Rejected* find_rejected(const StateFile& state, const std::string& sha256) {
  if (sha256.empty()) return nullptr;
  for (const auto& r : state.rejected)
    if (r.sha256 == sha256) return &r;
  return nullptr;
}

std::string given_up_reason(const Rejected& r) {
  return r.assessment == Assessment::kBad
             ? "marked bad by its boot assessment"
             : "given up without a good verdict (its boot trial ran out, or it could not boot)";
}

Status refuse_known_bad(const StateFile& state, const std::string& sha256, bool force) {
  const Rejected* r = find_rejected(state, sha256);
  if (!r || force) return {};
  return fail("this image (sha256 " + sha256 + ") was staged before" +
              (r->source.empty() ? "" : " from " + r->source) +
              (r->staged_at.empty() ? "" : " at " + r->staged_at) + " and " + given_up_reason(*r) +
              "; it became " + host_files::kBroken + " at " + r->given_up_at +
              " (see 'imgroot log'); pass --force to stage it anyway");
}

}  // namespace imgroot::state
