#include "state/boot_trial.h"

#include <functional>
#include <utility>

#include "base/layout.h"
#include "grub/esp.h"
#include "state/assessment.h"
#include "system/file.h"

namespace imgroot::state {

namespace {

// EFI-BOOT's grub/ folder and the grubenv in it.
struct Grubenv {
  grub::Esp esp;
  grub::Env env;
};

Result<Grubenv> load(const std::string& esp) {
  auto opened = grub::open_esp(esp);
  if (!opened) return std::unexpected(opened.error());
  auto env = grub::load_grubenv(*opened);
  if (!env) return std::unexpected(env.error());
  return Grubenv{std::move(*opened), std::move(*env)};
}

// Read grubenv, let 'change' edit it, write it back when it changed.
// Returns the trial as it is afterwards.
Result<std::optional<grub::Trial>> update_trial(const std::optional<std::string>& esp,
                                                const std::function<Status(grub::Env&)>& change) {
  if (!esp) return std::optional<grub::Trial>();
  auto loaded = load(*esp);
  if (!loaded) return std::unexpected(loaded.error());
  grub::Env edited = loaded->env;
  if (auto st = change(edited); !st) return std::unexpected(st.error());
  // The file is written even when nothing changed but it is missing: GRUB
  // cannot create it, and needs it to count.
  auto exists = grub::ensure_grubenv(loaded->esp);
  if (!exists) return std::unexpected(exists.error());
  if (edited != loaded->env) {
    if (auto st = grub::save_grubenv(loaded->esp, edited); !st) return std::unexpected(st.error());
  }
  return std::optional<grub::Trial>(grub::read_trial(edited));
}

}  // namespace

Result<std::optional<grub::Trial>> read_boot_trial(const std::optional<std::string>& esp) {
  if (!esp) return std::optional<grub::Trial>();
  auto loaded = load(*esp);
  if (!loaded) return std::unexpected(loaded.error());
  return std::optional<grub::Trial>(grub::read_trial(loaded->env));
}

Result<std::optional<grub::Trial>> start_boot_trial(const std::optional<std::string>& esp,
                                                    int tries) {
  return update_trial(esp, [tries](grub::Env& env) -> Status {
    if (tries == 0) {
      grub::end_trial(env);
      return {};
    }
    return grub::start_trial(env, tries);
  });
}

Result<Verdict> record_verdict(const Hostpart& hostpart, const SystemPaths& paths,
                               const std::optional<std::string>& esp, Assessment verdict) {
  Verdict done;
  auto staged = exists_at(hostpart.dir.get(), host_files::kNew);
  if (!staged) return std::unexpected(staged.error());
  done.staged_trial_left = *staged;
  if (!done.staged_trial_left) {
    auto trial = update_trial(esp, [verdict](grub::Env& env) -> Status {
      if (verdict == Assessment::kGood) grub::end_trial(env);
      else grub::exhaust_trial(env);
      return {};
    });
    if (!trial) return std::unexpected(std::move(trial.error()).context("boot trial"));
    done.trial = std::move(*trial);
  }
  auto marked = mark_image(hostpart, paths, verdict);
  if (!marked) return std::unexpected(marked.error());
  done.image = std::move(*marked);
  return done;
}

Result<Reverted> revert_ending_trial(int hostpart_dir, const RevertRequest& request,
                                     const std::optional<std::string>& esp) {
  if (auto st = request_revert(hostpart_dir, request); !st) return std::unexpected(st.error());
  Reverted done;
  auto trial = update_trial(esp, [](grub::Env& env) -> Status {
    grub::end_trial(env);
    return {};
  });
  if (trial)
    done.trial = std::move(*trial);
  else
    done.trial_ended = std::unexpected(
        std::move(trial.error())
            .context("the revert is pending, but the boot trial could not be ended"));
  return done;
}

}  // namespace imgroot::state
