#include "boot/rotation.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/layout.h"
#include "system/fd.h"
#include "base/names.h"
#include "system/file.h"

namespace imgroot::rotation {

using namespace host_files;

namespace {

constexpr const char* kPowerCut = "simulated power cut";
// The names rotation boots from; hn-root-broken.img is only ever a target.
constexpr const char* kBootNames[] = {kNew, kCurrent, kOld};

enum class Entry { kAbsent, kImage, kNotAnImage };

// An image is a regular file of the host partition itself: not a link to
// follow, not a FIFO that would block an open, not a file mounted over the
// name (renames of a mount point fail with EBUSY).
Result<Entry> classify(int dir, const char* name) {
  struct statx stx {};
  if (::statx(dir, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_TYPE, &stx) < 0) {
    if (errno == ENOENT) return Entry::kAbsent;
    return fail_errno("stat " + quoted(name));
  }
  if (!S_ISREG(stx.stx_mode)) return Entry::kNotAnImage;
  if (stx.stx_attributes_mask & stx.stx_attributes & STATX_ATTR_MOUNT_ROOT)
    return Entry::kNotAnImage;
  return Entry::kImage;
}

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

  // 'name' becomes hn-root-broken.img, replacing what was kept there.
  // Already done when both names are one file (a rerun after a power cut):
  // the second name goes.
  Status set_aside(const char* name) {
    auto same = same_file(name, kBroken);
    if (!same) return std::unexpected(same.error());
    if (*same) return remove(name);
    // No file can replace a directory (or anything else no image) there.
    auto kind = classify(dir_, kBroken);
    if (!kind) return std::unexpected(kind.error());
    if (*kind == Entry::kNotAnImage) {
      if (auto st = move_to_set_aside(kBroken); !st) return st;
    }
    return rename(name, kBroken);
  }

  // 'name' moves to imgroot/set-aside/NAME.N, the first N free.
  Status move_to_set_aside(const char* name) {
    if (auto st = make_set_aside_dir(); !st) return st;
    auto kept = Fd::open_at(dir_, kSetAsideDir, O_RDONLY | O_DIRECTORY);
    if (!kept) return std::unexpected(kept.error());
    for (int n = 1;; ++n) {
      const std::string target = std::string(name) + "." + std::to_string(n);
      const std::string what = std::string(name) + " -> " + kSetAsideDir + "/" + target;
      Status moved = step(
          [&]() -> Status {
            if (::renameat2(dir_, name, kept->get(), target.c_str(), RENAME_NOREPLACE) < 0)
              return fail_errno("rename " + quoted(name) + " -> " +
                                quoted(std::string(kSetAsideDir) + "/" + target));
            return fsync_fd(kept->get(), kSetAsideDir);
          },
          what);
      if (moved || moved.error().code != EEXIST || n >= 1000) return moved;
    }
  }

  // Every other boot name of the file that was just set aside: GRUB cannot
  // load it under any name.
  Status drop_other_names_of_broken() {
    for (const char* name : kBootNames) {
      auto same = same_file(name, kBroken);
      if (!same) return std::unexpected(same.error());
      if (*same) {
        if (auto st = remove(name); !st) return st;
      }
    }
    return {};
  }

  // The two names swap files in one atomic step (RENAME_EXCHANGE).
  Status exchange(const char* a, const char* b) {
    return step(
        [&]() -> Status {
          if (::renameat2(dir_, a, dir_, b, RENAME_EXCHANGE) < 0)
            return fail_errno("exchange " + quoted(a) + " and " + quoted(b));
          return {};
        },
        std::string(a) + " <-> " + b);
  }

  bool power_cut() const { return power_cut_; }

  Result<bool> same_file(const char* a, const char* b) {
    auto sa = stat_at(dir_, a);
    if (!sa) return std::unexpected(sa.error());
    auto sb = stat_at(dir_, b);
    if (!sb) return std::unexpected(sb.error());
    return *sa && *sb && same_inode(**sa, **sb);
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
    if (crash_ && crash_->steps-- <= 0) {
      power_cut_ = true;
      return fail(kPowerCut);
    }
    if (Status done = operation(); !done) return done;
    // Each step must be on disk before the next one is made: the order of
    // the steps is what makes every intermediate state recoverable.
    if (Status synced = fsync_fd(dir_, "host partition directory"); !synced) return synced;
    out_.steps.push_back(std::move(what));
    return {};
  }

  Status make_set_aside_dir() {
    for (const char* d : {kStateDir, kSetAsideDir})
      if (auto st = make_dir_at(dir_, d, 0700); !st) return st;
    return {};
  }

  int dir_;
  CrashAfter* crash_;
  Outcome& out_;
  bool power_cut_ = false;
};

// Before the state is read: what stands under an image name but is no
// image file moves out of the way of every rename; an image file the check
// rejects is given up; a staged name that is only a second link to the
// current image is dropped (upgrading to it would rename a file onto itself,
// which does nothing: every boot would "upgrade" again and replace
// hn-root-old.img with the current image).
Status set_aside_non_images(Steps& steps, int dir, Outcome& out, const ImageCheck& check) {
  for (const char* name : {kNew, kCurrent, kOld, kBroken}) {
    auto kind = classify(dir, name);
    if (!kind) return std::unexpected(kind.error());
    if (*kind != Entry::kNotAnImage) continue;
    Status moved = steps.move_to_set_aside(name);
    if (!moved && steps.power_cut()) return moved;
    if (!moved) out.ignored.push_back(std::string(name) + " is not an image file; ignored (" +
                                      moved.error().message + ")");
  }
  if (check) {
    for (const char* name : kBootNames) {
      auto kind = classify(dir, name);
      if (!kind) return std::unexpected(kind.error());
      if (*kind != Entry::kImage || check(dir, name)) continue;
      out.ignored.push_back(std::string(name) + " cannot be booted; set aside as " + kBroken);
      if (auto st = steps.set_aside(name); !st) return st;
      if (auto st = steps.drop_other_names_of_broken(); !st) return st;
    }
  }
  auto staged = classify(dir, kNew);
  if (!staged) return std::unexpected(staged.error());
  if (*staged != Entry::kImage) return {};
  auto same = steps.same_file(kNew, kCurrent);
  if (!same) return std::unexpected(same.error());
  return *same ? steps.remove(kNew) : Status{};
}

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
  constexpr EnumName<Action> kNames[] = {
      {Action::kNone, "none"}, {Action::kUpgrade, "upgrade"}, {Action::kRevert, "revert"}};
  return enum_name(kNames, action);
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
    auto kind = classify(dir, f.name);
    if (!kind) return std::unexpected(kind.error());
    auto st = stat_at(dir, f.name);
    if (!st) return std::unexpected(st.error());
    // The flag is any entry; an image name counts only as an image.
    *f.present = f.name == kRevertFlag ? st->has_value() : *kind == Entry::kImage;
    if (f.keep && *f.present && *st) *f.keep = **st;
  }
  s.current_is_old = s.current && s.old && same_inode(current_st, old_st);
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

Result<Outcome> rotate(int dir, bool revert_requested, CrashAfter* crash,
                       const ImageCheck& check) {
  Outcome out;
  Steps steps(dir, crash, out);
  if (auto st = remove_leftover_link(steps, dir); !st) return std::unexpected(st.error());
  if (auto st = set_aside_non_images(steps, dir, out, check); !st)
    return std::unexpected(st.error());

  auto state = read_state(dir);
  if (!state) return std::unexpected(state.error());
  const HostState& s = *state;
  out.chosen = boot_choice(s, revert_requested).value_or("");
  out.action = plan(s, revert_requested);

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

Result<Outcome> set_aside(int dir, const std::string& name, CrashAfter* crash) {
  Outcome out;
  auto present = exists_at(dir, name);
  if (!present) return std::unexpected(present.error());
  if (!*present) return out;
  Steps steps(dir, crash, out);
  if (auto st = steps.set_aside(name.c_str()); !st) return std::unexpected(st.error());
  if (auto st = steps.drop_other_names_of_broken(); !st) return std::unexpected(st.error());
  return out;
}

Result<Outcome> discard_staged(int dir, CrashAfter* crash) { return set_aside(dir, kNew, crash); }

Result<Outcome> rotate_at_boot(int dir, const BootConfig& config, const ImageCheck& check,
                               CrashAfter* crash) {
  std::vector<std::string> given_up = config.broken;
  if (config.unstage) given_up.insert(given_up.begin(), kNew);
  std::vector<std::string> steps;
  for (const auto& image : given_up) {
    auto done = set_aside(dir, image, crash);
    if (!done) return std::unexpected(std::move(done.error()).context("give up " + image));
    steps.insert(steps.end(), done->steps.begin(), done->steps.end());
  }
  auto out = rotate(dir, config.revert, crash, check);
  if (!out) return std::unexpected(std::move(out.error()).context("rotate images"));
  out->steps.insert(out->steps.begin(), steps.begin(), steps.end());
  return out;
}

Result<Outcome> fall_back(int dir, CrashAfter* crash, const ImageCheck& check) {
  auto state = read_state(dir);
  if (!state) return std::unexpected(state.error());
  if ((!state->old || state->current_is_old) && !state->staged) {
    // The last resort: the image given up earlier beats a node that does
    // not boot. One atomic exchange of the two names.
    if (!state->broken)
      return fail(std::string("no ") + kOld + ", " + kNew + " or " + kBroken + " to fall back to");
    Outcome out;
    out.action = Action::kRevert;
    out.chosen = kCurrent;
    Steps steps(dir, crash, out);
    if (auto st = steps.exchange(kCurrent, kBroken); !st) return std::unexpected(st.error());
    return out;
  }

  // The image that cannot be mounted does not push out an image kept as
  // broken (one reverted away from, still complete): it is kept aside.
  Outcome given_up;
  Steps steps(dir, crash, given_up);
  auto same = steps.same_file(kCurrent, kBroken);
  if (!same) return std::unexpected(same.error());
  Status moved = state->broken && !*same ? steps.move_to_set_aside(kCurrent)
                                         : steps.set_aside(kCurrent);
  if (!moved) return std::unexpected(moved.error());
  auto next = rotate(dir, false, crash, check);
  if (!next) return std::unexpected(next.error());
  next->steps.insert(next->steps.begin(), given_up.steps.begin(), given_up.steps.end());
  next->chosen = kCurrent;
  auto after = read_state(dir);
  if (!after) return std::unexpected(after.error());
  if (!after->current) return fail(std::string("no image left to fall back to"));
  return next;
}

}  // namespace imgroot::rotation
