#include "boot/rotation.h"

#include <fcntl.h>

#include "boot/host_files.h"
#include "system/file.h"

namespace imgroot::rotation {

using namespace host_files;

namespace {

// Applies one durable directory operation at a time and keeps the record.
class Steps {
 public:
  Steps(int dir, CrashAfter* crash, Outcome& out) : dir_(dir), crash_(crash), out_(out) {}

  Status link(const char* from, const char* to) {
    return step([&] { return link_at(dir_, from, to); }, std::string("link ") + from + " as " + to);
  }
  Status rename(const char* from, const char* to) {
    return step([&] { return rename_at(dir_, from, to); }, std::string(from) + " -> " + to);
  }
  Status remove(const char* name) {
    return step([&] { return remove_at(dir_, name); }, std::string("remove ") + name);
  }

  // Give the file 'from' the second name 'to' (replacing what 'to' was)
  // without 'from' ever being missing: link to a temporary name, rename that
  // over 'to'. Already done when both names are one file (a rerun after a
  // power cut): rename(2) between two links of one file does nothing, so
  // the temporary name would stay behind.
  Status keep_as(const char* from, const char* to) {
    auto same = same_file(from, to);
    if (!same) return std::unexpected(same.error());
    if (*same) return {};
    if (auto st = link(from, kLinkTemp); !st) return st;
    return rename(kLinkTemp, to);
  }

 private:
  template <typename Operation>
  Status step(Operation operation, std::string what) {
    if (crash_ && crash_->steps-- <= 0) return fail("simulated power cut");
    if (Status done = operation(); !done) return done;
    // Each step must be on disk before the next one is made: the order of
    // the steps is what makes every intermediate state recoverable.
    if (Status synced = fsync_fd(dir_, "host partition directory"); !synced) return synced;
    out_.steps.push_back(std::move(what));
    return {};
  }

  Result<bool> same_file(const char* a, const char* b) {
    auto sa = stat_at(dir_, a);
    if (!sa) return std::unexpected(sa.error());
    auto sb = stat_at(dir_, b);
    if (!sb) return std::unexpected(sb.error());
    return *sa && *sb && (*sa)->st_dev == (*sb)->st_dev && (*sa)->st_ino == (*sb)->st_ino;
  }

  int dir_;
  CrashAfter* crash_;
  Outcome& out_;
};

// hn-root.img -> hn-root-broken.img, hn-root-old.img -> hn-root.img, with
// the current image keeping its name until the old one replaces it.
Status revert_steps(Steps& steps, const HostState& s) {
  if (s.current_is_old) {
    // An upgrade was cut short after linking the current image as the old
    // one: the current image is the old image. Undo that link; the staged
    // image stays staged.
    return steps.remove(kOld);
  }
  if (s.current) {
    if (auto st = steps.keep_as(kCurrent, kBroken); !st) return st;
  }
  return steps.rename(kOld, kCurrent);
}

Status upgrade_steps(Steps& steps, const HostState& s) {
  if (s.current) {
    if (auto st = steps.keep_as(kCurrent, kOld); !st) return st;
  }
  return steps.rename(kNew, kCurrent);
}

Status remove_leftover_link(Steps& steps, int dir) {
  auto leftover = exists_at(dir, kLinkTemp);
  if (!leftover) return std::unexpected(leftover.error());
  return *leftover ? steps.remove(kLinkTemp) : Status{};
}

}  // namespace

const char* action_name(Action action) {
  switch (action) {
    case Action::kNone: return "none";
    case Action::kUpgrade: return "upgrade";
    case Action::kRevert: return "revert";
  }
  return "?";
}

Result<HostState> read_state(int dir) {
  HostState s;
  struct stat current_st {}, old_st {};
  const struct {
    const char* name;
    bool* present;
    struct stat* keep;
  } files[] = {
      {kCurrent, &s.current, &current_st}, {kNew, &s.staged, nullptr},
      {kOld, &s.old, &old_st},             {kBroken, &s.broken, nullptr},
      {kRevertFlag, &s.revert_flag, nullptr},
  };
  for (const auto& f : files) {
    auto st = stat_at(dir, f.name);
    if (!st) return std::unexpected(st.error());
    *f.present = st->has_value();
    if (f.keep && *f.present) *f.keep = **st;
  }
  s.current_is_old = s.current && s.old && current_st.st_dev == old_st.st_dev &&
                     current_st.st_ino == old_st.st_ino;
  return s;
}

std::optional<std::string> boot_choice(const HostState& s, bool revert_requested) {
  if ((s.revert_flag || revert_requested) && s.old) return kOld;
  if (s.staged) return kNew;
  if (s.current) return kCurrent;
  if (s.old) return kOld;
  return std::nullopt;
}

Action plan(const HostState& s, bool revert_requested) {
  auto choice = boot_choice(s, revert_requested);
  if (!choice || *choice == kCurrent) return Action::kNone;
  if (*choice == kNew) return Action::kUpgrade;
  return Action::kRevert;
}

Result<Outcome> rotate(int dir, bool revert_requested, CrashAfter* crash) {
  auto state = read_state(dir);
  if (!state) return std::unexpected(state.error());
  const HostState& s = *state;

  Outcome out;
  out.chosen = boot_choice(s, revert_requested).value_or("");
  out.action = plan(s, revert_requested);
  Steps steps(dir, crash, out);

  if (auto st = remove_leftover_link(steps, dir); !st) return std::unexpected(st.error());

  Status done;
  switch (out.action) {
    case Action::kRevert:
      done = revert_steps(steps, s);
      if (done && s.revert_flag) done = steps.remove(kRevertFlag);
      break;
    case Action::kUpgrade:
    case Action::kNone:
      // A revert was asked for but there is no old image: nothing to go
      // back to. Drop the flag so it does not linger and surprise later.
      if (s.revert_flag) {
        out.dropped_stale_flag = true;
        done = steps.remove(kRevertFlag);
      } else if (revert_requested) {
        out.dropped_stale_flag = true;
      }
      if (done && out.action == Action::kUpgrade) done = upgrade_steps(steps, s);
      break;
  }
  if (!done) return std::unexpected(done.error());
  return out;
}

Result<Outcome> discard_staged(int dir, CrashAfter* crash) {
  Outcome out;
  auto staged = exists_at(dir, kNew);
  if (!staged) return std::unexpected(staged.error());
  if (!*staged) return out;
  Steps steps(dir, crash, out);
  if (auto st = steps.rename(kNew, kBroken); !st) return std::unexpected(st.error());
  return out;
}

Result<Outcome> fall_back(int dir, CrashAfter* crash) {
  auto state = read_state(dir);
  if (!state) return std::unexpected(state.error());
  if (!state->old || state->current_is_old)
    return fail(std::string("no ") + kOld + " to fall back to");

  Outcome out;
  out.action = Action::kRevert;
  out.chosen = kCurrent;
  Steps steps(dir, crash, out);
  if (auto st = remove_leftover_link(steps, dir); !st) return std::unexpected(st.error());
  if (auto st = revert_steps(steps, *state); !st) return std::unexpected(st.error());
  return out;
}

}  // namespace imgroot::rotation
