#include "grub/config.h"

#include <charconv>
#include <utility>
#include <vector>

#include "base/layout.h"
#include "grub/trial.h"

namespace imgroot::grub {

namespace {

// The script, with @NAME@ placeholders for what is defined elsewhere (the
// host partition's file names, labels, the count-down chain). One command
// a line, no ';'-joined commands besides "if ...; then": the unit tests run
// this script in a small interpreter of exactly that subset
// (tests/unit/grub_sim.cc) against the real rotation code.
constexpr std::string_view kSearch = R"GRUB(
# The host partition, by label; grubenv on EFI-BOOT (else beside grub.cfg).
set imgroot_hp=""
search --no-floppy --label @HPLABEL@ --set=imgroot_hp
set imgroot_esp=""
search --no-floppy --label @ESPLABEL@ --set=imgroot_esp
if [ -n "$imgroot_esp" ]; then
  set imgroot_env="($imgroot_esp)/@GRUBDIR@/@ENVFILE@"
else
  set imgroot_env="$prefix/@ENVFILE@"
fi
set imgroot_trial=""
set imgroot_tries=""
if [ -f "$imgroot_env" ]; then
  load_env --file "$imgroot_env" imgroot_trial imgroot_tries
fi
)GRUB";

constexpr std::string_view kFunctions = R"GRUB(
# imgroot_rules: the image the rules choose, as imgroot-init will
# (rotation::boot_choice): with a revert pending (@FLAG@ and an old
# image) the old image; else a staged image; else the current one; else the
# old one. A missing file, or one GRUB failed to load in this boot, falls
# through to the next.
function imgroot_rules {
  set imgroot_revert_pending=no
  if [ -f "($imgroot_hp)/@FLAG@" ]; then
    imgroot_present @OLD@
    if [ "$imgroot_present" = yes ]; then
      set imgroot_revert_pending=yes
    fi
  fi
  set imgroot_choice=""
  if [ "$imgroot_revert_pending" = yes ]; then
    set imgroot_choice=@OLD@
  else
    imgroot_present @NEW@
    if [ "$imgroot_present" = yes ]; then
      set imgroot_choice=@NEW@
    else
      imgroot_present @CUR@
      if [ "$imgroot_present" = yes ]; then
        set imgroot_choice=@CUR@
      else
        imgroot_present @OLD@
        if [ "$imgroot_present" = yes ]; then
          set imgroot_choice=@OLD@
        fi
      fi
    fi
  fi
}

# imgroot_present FILE: imgroot_present=yes when FILE is on the host
# partition and GRUB has not failed to load its kernel in this boot.
function imgroot_present {
  set imgroot_present=no
  if [ -f "($imgroot_hp)/$1" ]; then
    set imgroot_present=yes
  fi
  if [ "$1" = "$imgroot_unloadable_1" ]; then
    set imgroot_present=no
  elif [ "$1" = "$imgroot_unloadable_2" ]; then
    set imgroot_present=no
  fi
}

# imgroot_give_up FILE: what boots instead of FILE when FILE is given up
# (its tries are used up, or GRUB cannot load it). Sets imgroot_next, its
# extra arguments imgroot_next_args and the trial phase imgroot_next_trial:
#   staged image:  the current one (else the old one) with imgroot.unstage=1;
#                  the init moves the staged image to @BROKEN@
#   current image: the old one with imgroot.revert=1; the init reverts
#   old image:     the current one
function imgroot_give_up {
  set imgroot_next=""
  set imgroot_next_args=""
  set imgroot_next_trial=""
  if [ "$1" = @NEW@ ]; then
    imgroot_present @CUR@
    if [ "$imgroot_present" = yes ]; then
      set imgroot_next=@CUR@
    else
      imgroot_present @OLD@
      if [ "$imgroot_present" = yes ]; then
        set imgroot_next=@OLD@
      fi
    fi
    if [ -n "$imgroot_next" ]; then
      set imgroot_next_args=imgroot.unstage=1
      set imgroot_next_trial=discarding
    fi
  elif [ "$1" = @CUR@ ]; then
    imgroot_present @OLD@
    if [ "$imgroot_present" = yes ]; then
      set imgroot_next=@OLD@
      set imgroot_next_args=imgroot.revert=1
      set imgroot_next_trial=reverting
    fi
  elif [ "$1" = @OLD@ ]; then
    imgroot_present @CUR@
    if [ "$imgroot_present" = yes ]; then
      set imgroot_next=@CUR@
    fi
  fi
}

# imgroot_end_trial: no image is on trial any more.
function imgroot_end_trial {
  set imgroot_trial=""
  set imgroot_tries=""
  set imgroot_save=yes
}

# imgroot_count: a boot of the image on trial. GRUB has no arithmetic: the
# counter is a string and each value has its branch. With a try left, this
# boot takes it (saved before booting); with none, or a counter that is not
# one of these strings, the image is given up.
function imgroot_count {
  set imgroot_left=""
@COUNTDOWN@
  if [ -n "$imgroot_left" ]; then
    set imgroot_trial=counting
    set imgroot_tries="$imgroot_left"
    set imgroot_save=yes
    set imgroot_counting=yes
  else
    imgroot_give_up "$imgroot_choice"
    if [ -n "$imgroot_next_trial" ]; then
      set imgroot_boot="$imgroot_next"
      set imgroot_boot_args="$imgroot_next_args"
      set imgroot_trial="$imgroot_next_trial"
      set imgroot_tries=0
      set imgroot_save=yes
    else
      imgroot_end_trial
    fi
  fi
}

# imgroot_assess: what the boot assessment makes of this boot. Sets
# imgroot_boot and imgroot_boot_args, and imgroot_save=yes when grubenv
# must change before booting. A revert asked for with @FLAG@ goes
# first and leaves any trial as it is.
function imgroot_assess {
  set imgroot_boot="$imgroot_choice"
  set imgroot_boot_args=""
  set imgroot_save=no
  set imgroot_counting=no
  if [ "$imgroot_revert_pending" = no ]; then
    if [ "$imgroot_trial" = reverting ]; then
      if [ -f "($imgroot_hp)/@OLD@" ]; then
        set imgroot_boot=@OLD@
        set imgroot_boot_args=imgroot.revert=1
      else
        imgroot_end_trial
      fi
    elif [ "$imgroot_trial" = discarding ]; then
      if [ -f "($imgroot_hp)/@NEW@" ]; then
        imgroot_give_up @NEW@
        if [ -n "$imgroot_next" ]; then
          set imgroot_boot="$imgroot_next"
          set imgroot_boot_args="$imgroot_next_args"
        fi
      else
        imgroot_end_trial
      fi
    elif [ -n "$imgroot_trial" ]; then
      if [ -n "$imgroot_choice" ]; then
        imgroot_count
      fi
    fi
  fi
}

# imgroot_commit: save grubenv before booting. An image on trial boots
# only once its boot is counted on disk; when grubenv cannot be written,
# the fallback boots instead.
function imgroot_commit {
  if [ "$imgroot_save" = yes ]; then
    set imgroot_saved=no
    if save_env --file "$imgroot_env" imgroot_trial imgroot_tries; then
      set imgroot_saved=yes
    fi
    if [ "$imgroot_saved" = no ]; then
      echo "imgroot: cannot save the boot count in $imgroot_env"
      if [ "$imgroot_counting" = yes ]; then
        if [ -n "$imgroot_fallback" ]; then
          echo "imgroot: not booting $imgroot_boot uncounted, booting $imgroot_fallback instead"
          set imgroot_boot="$imgroot_fallback"
          set imgroot_boot_args="$imgroot_fallback_args"
        fi
      fi
    fi
  fi
}

# imgroot_load FILE ARGS LOOP: load the kernel and initramfs inside FILE
# through the loop device LOOP, telling the init which file they came from.
# imgroot_loaded=yes when both loaded.
function imgroot_load {
  set imgroot_loaded=no
  echo "imgroot: loading $1 $2"
  if loopback "$3" "($imgroot_hp)/$1"; then
    if linux "($3)/boot/kernel" "imgroot.image=$1" $2 panic=@PANIC@ $imgroot_cmdline; then
      if initrd "($3)/boot/initramfs"; then
        set imgroot_loaded=yes
      fi
    fi
  fi
}

# imgroot_unloadable: GRUB could not load the kernel of $imgroot_boot (no
# filesystem GRUB reads, a truncated copy, no /boot/kernel): give it up as
# if its tries had run out and choose the next image by the rules, in this
# same boot. The init is told with imgroot.broken=FILE and sets the file
# aside, so that it boots what GRUB loaded.
function imgroot_unloadable {
  echo "imgroot: cannot load the kernel of $imgroot_boot, giving it up"
  if [ -z "$imgroot_unloadable_1" ]; then
    set imgroot_unloadable_1="$imgroot_boot"
  else
    set imgroot_unloadable_2="$imgroot_boot"
  fi
  set imgroot_broken_args="$imgroot_broken_args imgroot.broken=$imgroot_boot"
  imgroot_give_up "$imgroot_boot"
  if [ -n "$imgroot_next_trial" ]; then
    set imgroot_trial="$imgroot_next_trial"
    set imgroot_tries=0
    save_env --file "$imgroot_env" imgroot_trial imgroot_tries
  fi
  if [ -z "$imgroot_next" ]; then
    imgroot_rules
    set imgroot_next="$imgroot_choice"
  fi
  set imgroot_boot="$imgroot_next"
  set imgroot_boot_args="$imgroot_next_args $imgroot_broken_args"
}

# imgroot_load_chosen: load imgroot_boot; while GRUB cannot, the next image
# by the rules (at most three images: staged, current, old).
function imgroot_load_chosen {
  imgroot_load "$imgroot_boot" "$imgroot_boot_args" imgroot_loop
  if [ "$imgroot_loaded" = no ]; then
    imgroot_unloadable
    if [ -n "$imgroot_boot" ]; then
      imgroot_load "$imgroot_boot" "$imgroot_boot_args" imgroot_loop_2
    fi
  fi
  if [ "$imgroot_loaded" = no ]; then
    if [ -n "$imgroot_boot" ]; then
      imgroot_unloadable
      if [ -n "$imgroot_boot" ]; then
        imgroot_load "$imgroot_boot" "$imgroot_boot_args" imgroot_loop_3
      fi
    fi
  fi
  if [ "$imgroot_loaded" = no ]; then
    echo "imgroot: GRUB could load the kernel of no image on the partition labelled @HPLABEL@"
  fi
}
)GRUB";

constexpr std::string_view kDecide = R"GRUB(
imgroot_rules
imgroot_assess
imgroot_give_up "$imgroot_boot"
set imgroot_fallback="$imgroot_next"
set imgroot_fallback_args="$imgroot_next_args"
set imgroot_fallback_trial="$imgroot_next_trial"
)GRUB";

constexpr std::string_view kEntries = R"GRUB(
set default=imgroot
if [ -n "$imgroot_boot" ]; then
  menuentry "imgroot: $imgroot_boot $imgroot_boot_args" --id imgroot {
    imgroot_commit
    imgroot_load_chosen
  }
else
  menuentry "imgroot: no image on the partition labelled @HPLABEL@" --id imgroot {
    echo "imgroot: no @CUR@, @NEW@ or @OLD@ on a partition labelled @HPLABEL@"
  }
fi
if [ -n "$imgroot_fallback" ]; then
  # By number: GRUB 2.06 takes no id in $fallback. It is the second entry.
  set fallback=1
  menuentry "imgroot: fallback, $imgroot_fallback $imgroot_fallback_args" --id imgroot-fallback {
    if [ -n "$imgroot_fallback_trial" ]; then
      set imgroot_trial="$imgroot_fallback_trial"
      set imgroot_tries=0
      save_env --file "$imgroot_env" imgroot_trial imgroot_tries
    fi
    imgroot_load "$imgroot_fallback" "$imgroot_fallback_args" imgroot_fallback_loop
  }
fi
if [ -f "($imgroot_hp)/@CUR@" ]; then
  if [ -f "($imgroot_hp)/@NEW@" ]; then
    menuentry "imgroot: @CUR@, the current image (gives up the staged one)" --id imgroot-current {
      imgroot_load @CUR@ imgroot.unstage=1 imgroot_current_loop
    }
  else
    menuentry "imgroot: @CUR@, the current image" --id imgroot-current {
      imgroot_load @CUR@ "" imgroot_current_loop
    }
  fi
fi
if [ -f "($imgroot_hp)/@OLD@" ]; then
  menuentry "imgroot: @OLD@, the previous image (reverts to it)" --id imgroot-old {
    imgroot_load @OLD@ imgroot.revert=1 imgroot_old_loop
  }
fi
if [ -f "($imgroot_hp)/@NEW@" ]; then
  menuentry "imgroot: @NEW@, the staged image" --id imgroot-staged {
    imgroot_load @NEW@ "" imgroot_staged_loop
  }
fi
)GRUB";

std::string countdown_chain() {
  std::string out;
  for (int n = kMaxTries; n >= 1; --n) {
    out += n == kMaxTries ? "  if" : "  elif";
    out += " [ \"$imgroot_tries\" = " + std::to_string(n) + " ]; then\n";
    out += "    set imgroot_left=" + std::to_string(n - 1) + "\n";
  }
  out += "  fi";
  return out;
}

std::string substitute(std::string_view text, const std::vector<std::pair<std::string, std::string>>& values) {
  std::string out;
  out.reserve(text.size());
  std::size_t p = 0;
  while (p < text.size()) {
    std::size_t at = text.find('@', p);
    if (at == std::string_view::npos) break;
    out.append(text.substr(p, at - p));
    std::size_t end = text.find('@', at + 1);
    bool replaced = false;
    if (end != std::string_view::npos) {
      std::string_view key = text.substr(at + 1, end - at - 1);
      for (const auto& [k, v] : values) {
        if (k == key) {
          out += v;
          p = end + 1;
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) {
      out += '@';
      p = at + 1;
    }
  }
  out.append(text.substr(p));
  return out;
}

std::string trim(std::string_view s) {
  const char* ws = " \t\r";
  auto b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return "";
  auto e = s.find_last_not_of(ws);
  return std::string(s.substr(b, e - b + 1));
}

Result<int> parse_timeout(const std::string& value) {
  int n = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || end != value.data() + value.size())
    return fail("timeout '" + value + "': not a number of seconds");
  return n;
}

}  // namespace

Status apply_settings(std::string_view text, ConfigOptions& options) {
  int line_no = 0;
  std::size_t p = 0;
  while (p <= text.size()) {
    std::size_t nl = text.find('\n', p);
    if (nl == std::string_view::npos) nl = text.size();
    std::string line = trim(text.substr(p, nl - p));
    p = nl + 1;
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    auto eq = line.find('=');
    const std::string where = "line " + std::to_string(line_no) + ": ";
    if (eq == std::string::npos) return fail(where + "expected 'key = value'");
    std::string key = trim(std::string_view(line).substr(0, eq));
    std::string value = trim(std::string_view(line).substr(eq + 1));
    if (key == "timeout") {
      auto t = parse_timeout(value);
      if (!t) return fail(where + t.error().message);
      options.timeout = *t;
    } else if (key == "cmdline") {
      options.cmdline = value;
    } else {
      return fail(where + "unknown setting '" + key + "' (known: timeout, cmdline)");
    }
  }
  return check_options(options);
}

Status check_options(const ConfigOptions& options) {
  if (options.timeout < 0 || options.timeout > 3600)
    return fail("timeout " + std::to_string(options.timeout) + ": not 0 to 3600 seconds");
  for (char c : options.cmdline) {
    // The arguments go into the script between single quotes, which GRUB
    // takes literally; only a quote or a control character cannot be there.
    if (c == '\'' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return fail("kernel arguments '" + options.cmdline +
                  "': a single quote or control character cannot be passed through grub.cfg");
  }
  return {};
}

Result<std::string> generate_config(const ConfigOptions& options, std::string_view version) {
  using namespace host_files;
  if (auto st = check_options(options); !st) return std::unexpected(st.error());
  const std::vector<std::pair<std::string, std::string>> values = {
      {"CUR", kCurrent},         {"NEW", kNew},
      {"OLD", kOld},             {"BROKEN", kBroken},
      {"FLAG", kRevertFlag},     {"HPLABEL", labels::kHostpart},
      {"ESPLABEL", labels::kEsp},   {"PANIC", std::to_string(kPanicSeconds)},
      {"COUNTDOWN", countdown_chain()}, {"GRUBDIR", esp_files::kGrubDir},
      {"ENVFILE", esp_files::kEnvFile},
  };
  std::string out;
  if (options.snippet) {
    out += "### imgroot: boot the image file the imgroot rules choose, with its own kernel\n"
           "### (emitted by `imgroot grub --snippet`, imgroot " + std::string(version) + ")\n";
  } else {
    out += "# grub.cfg written by `imgroot grub` (imgroot " + std::string(version) +
           "): rerun it rather than\n"
           "# editing this file. docs/grub.md explains the script.\n"
           "#\n"
           "# It boots the image file the imgroot rules choose, with the kernel and\n"
           "# initramfs inside that image, and counts the boots of an image on trial\n"
           "# in grubenv.\n\n"
           "set timeout=" + std::to_string(options.timeout) + "\n";
  }
  out += "set imgroot_cmdline='" + options.cmdline + "'\n";
  out += substitute(kSearch, values);
  out += substitute(kFunctions, values);
  out += substitute(kDecide, values);
  out += substitute(kEntries, values);
  return out;
}

}  // namespace imgroot::grub
