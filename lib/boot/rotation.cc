#include "boot/rotation.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/host_files.h"
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

  // 'name' becomes hn-root-broken.img. Already done when both names are one
  // file (a rerun after a power cut): the second name goes. What the broken
  // name held is replaced; when it cannot be (a directory over a file, or
  // the other way round), it is removed first, if it is a file or an empty
  // directory.
  Status set_aside(const char* name) {
    auto same = same_file(name, kBroken);
    if (!same) return std::unexpected(same.error());
    if (*same) return remove(name);
    Status moved = rename(name, kBroken);
    if (moved || power_cut_) return moved;
    const int e = moved.error().code;
    if (e != EISDIR && e != ENOTDIR && e != ENOTEMPTY && e != EEXIST) return moved;
    if (auto st = step([&] { return remove_file_or_empty_dir(kBroken); },
                       std::string("remove ") + kBroken + " to make room");
        !st)
      return moved;
    return rename(name, kBroken);
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

  bool power_cut() const { return power_cut_; }

  Result<bool> same_file(const char* a, const char* b) {
    auto sa = stat_at(dir_, a);
    if (!sa) return std::unexpected(sa.error());
    auto sb = stat_at(dir_, b);
    if (!sb) return std::unexpected(sb.error());
    return *sa && *sb && (*sa)->st_dev == (*sb)->st_dev && (*sa)->st_ino == (*sb)->st_ino;
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

  Status remove_file_or_empty_dir(const char* name) {
    if (::unlinkat(dir_, name, 0) == 0) return {};
    if (errno != EISDIR && errno != EPERM) return fail_errno("remove " + quoted(name));
    if (::unlinkat(dir_, name, AT_REMOVEDIR) < 0) return fail_errno("remove " + quoted(name));
    return {};
  }

  int dir_;
  CrashAfter* crash_;
  Outcome& out_;
  bool power_cut_ = false;
};

// Before the state is read: what stands under a boot name but is no image
// is set aside (or, where it cannot be, ignored), and a staged name that is
// only a second link to the current image is dropped. Upgrading to it would
// rename a file onto itself, which does nothing: every boot would "upgrade"
// again and replace hn-root-old.img with the current image.
Status set_aside_non_images(Steps& steps, int dir, Outcome& out) {
  for (const char* name : kBootNames) {
    auto kind = classify(dir, name);
    if (!kind) return std::unexpected(kind.error());
    if (*kind != Entry::kNotAnImage) continue;
    Status moved = steps.set_aside(name);
    if (!moved && steps.power_cut()) return moved;
    if (!moved) out.ignored.push_back(std::string(name) + " is not an image file; ignored (" +
                                      moved.error().message + ")");
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
    auto kind = classify(dir, f.name);
    if (!kind) return std::unexpected(kind.error());
    auto st = stat_at(dir, f.name);
    if (!st) return std::unexpected(st.error());
    // The flag is any entry; an image name counts only as an image.
    *f.present = f.name == kRevertFlag ? st->has_value() : *kind == Entry::kImage;
    if (f.keep && *f.present && *st) *f.keep = **st;
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
  Outcome out;
  Steps steps(dir, crash, out);
  if (auto st = remove_leftover_link(steps, dir); !st) return std::unexpected(st.error());
  if (auto st = set_aside_non_images(steps, dir, out); !st) return std::unexpected(st.error());

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

Result<Outcome> rotate_at_boot(int dir, const BootConfig& config, CrashAfter* crash) {
  std::vector<std::string> given_up = config.broken;
  if (config.unstage) given_up.insert(given_up.begin(), kNew);
  std::vector<std::string> steps;
  for (const auto& image : given_up) {
    auto done = set_aside(dir, image, crash);
    if (!done) return std::unexpected(std::move(done.error()).context("give up " + image));
    steps.insert(steps.end(), done->steps.begin(), done->steps.end());
  }
  auto out = rotate(dir, config.revert, crash);
  if (!out) return std::unexpected(std::move(out.error()).context("rotate images"));
  out->steps.insert(out->steps.begin(), steps.begin(), steps.end());
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
