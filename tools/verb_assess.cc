// imgroot assess: the boot assessment of the running image (docs/assessment.md),
// run by the systemd units the package installs:
//   imgroot assess --boot      early in every boot (imgroot-boot.service): the
//                              boot record, the watchdog and the banner of a trial
//   imgroot assess             after default.target (imgroot-mark-good.service):
//                              the checks, the verdict and its consequences
//   imgroot assess --deadline  (imgroot-assess-deadline.timer): a boot on trial
//                              with no verdict by then is red
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <iostream>
#include <thread>

#include "assess/builtin.h"
#include "assess/checks.h"
#include "assess/config.h"
#include "assess/exec.h"
#include "assess/verdict.h"
#include "base/layout.h"
#include "boot/cmdline.h"
#include "esp_option.h"
#include "host_lock.h"
#include "hostpart_option.h"
#include "log_event.h"
#include "state/boot_trial.h"
#include "state/event_log.h"
#include "state/explain.h"
#include "state/known_bad.h"
#include "state/status.h"
#include "system/fd.h"
#include "system/file.h"
#include "system/run.h"
#include "verbs.h"

namespace imgroot::cli {

namespace {

const char* kUsage =
    "assess [--boot | --deadline] [--root DIR] [--hostpart DIR] [--esp DIR]\n"
    "          [--reboot-command CMD]";

const char* kDescription =
    "Assess the running image (docs/assessment.md). Without --boot or --deadline: run\n"
    "the built-in checks and the executables of /etc/imgroot/check.d/ (flat and\n"
    "required/: a failure makes the image bad; wanted/: a failure is reported), each\n"
    "one's output in the journal as imgroot-check/NAME, retried as\n"
    "/etc/imgroot/assess.conf says; then the verdict: green runs 'mark-good' and\n"
    "green.d/, red runs 'mark-bad' and red.d/ and, when the image is on trial and\n"
    "the image before it is not bad too, reboots after reboot_delay seconds so GRUB\n"
    "goes back to it. --boot writes the boot record to the event log, arms systemd's\n"
    "watchdog and writes the login banner during a trial. --deadline makes a boot on\n"
    "trial that has no verdict yet red. --root DIR reads /etc and writes /run below\n"
    "DIR; --reboot-command replaces 'systemctl --no-block reboot' (tests).";

// --no-block: the reboot job stops this very unit; do not wait for it.
const char* kDefaultReboot = "systemctl --no-block reboot";

struct Context {
  std::string root;  // "" or a directory /etc and /run are read below
  state::Hostpart hostpart;
  std::optional<std::string> esp;
  assess::Config config;
  std::string reboot_command;

  std::string path(const char* absolute) const { return root + absolute; }
};

void say(const std::string& line) { std::cout << "imgroot: " << line << std::endl; }
// "<3>" makes systemd log the line as an error.
void error(const std::string& line) { std::cout << "<3>imgroot: " << line << std::endl; }

Result<assess::Config> load_config(const std::string& path) {
  assess::Config config;
  auto text = read_file(path);
  if (!text) {
    if (text.error().code == ENOENT) return config;
    return std::unexpected(text.error());
  }
  if (auto st = assess::apply_config(*text, config); !st)
    return std::unexpected(std::move(st.error()).context(quoted(path)));
  return config;
}

// A file under /run: written whole, its directory made when missing.
void write_run_file(const std::string& path, const std::string& content) {
  auto slash = path.rfind('/');
  std::string dir = path.substr(0, slash);
  if (auto made = run_program({"mkdir", "-p", dir}); !made) {
    error(made.error().message);
    return;
  }
  auto opened = Fd::open_dir(dir);
  if (!opened) return error(opened.error().message);
  if (auto st = write_file_atomic_at(opened->get(), path.substr(slash + 1), content); !st)
    error(st.error().message);
}

void remove_run_file(const std::string& path) {
  if (::unlink(path.c_str()) < 0 && errno != ENOENT) error("remove " + quoted(path));
}

void banner(const Context& c, const std::vector<std::string>& lines) {
  if (lines.empty()) return remove_run_file(c.path(run_paths::kMotd));
  std::string text = "\n";
  for (const auto& l : lines) text += "  imgroot: " + l + "\n";
  write_run_file(c.path(run_paths::kMotd), text + "  ('imgroot status', 'imgroot log')\n\n");
}

struct Running {
  std::optional<grub::Trial> trial;
  bool staged = false;
  std::string image;  // the running image's name
  std::string sha256;
  bool on_trial() const {
    return !staged && trial && trial->phase == grub::Phase::kCounting;
  }
};

Running running(const Context& c) {
  Running r;
  if (auto t = state::read_boot_trial(c.esp)) r.trial = *t;
  else error("boot trial: " + t.error().message);
  auto status = state::read_status(c.hostpart, state::SystemPaths{});
  if (!status) return r;
  r.staged = status->staged;
  r.image = status->assessed_image.value_or("");
  for (const auto& img : status->images)
    if (img.name == r.image && img.record) r.sha256 = img.record->sha256;
  return r;
}

// systemd's RuntimeWatchdogSec as `systemctl show` prints it: "0" when off,
// else a time span ("1min"). systemctl talks to PID 1 over its own socket,
// so this works without a D-Bus daemon (a minimal Debian has none, and
// busctl's get-/set-property then fail).
Result<std::string> runtime_watchdog() {
  auto out = run_program({"systemctl", "show", "--value", "--property=RuntimeWatchdogUSec"});
  if (!out) return std::unexpected(out.error());
  std::string value = *out;
  while (!value.empty() && (value.back() == '\n' || value.back() == ' ')) value.pop_back();
  return value;
}

// Arm the watchdog for a trial: a system.conf drop-in under /run and a
// daemon-reload (which re-reads system.conf). Not when it is off in
// assess.conf, nor over the administrator's own setting.
void arm_watchdog(const Context& c) {
  if (c.config.watchdog == 0 || !c.root.empty()) return;
  if (exists_at(AT_FDCWD, run_paths::kWatchdogDropIn).value_or(false)) return;  // armed already
  auto now = runtime_watchdog();
  if (!now) return error("cannot read systemd's runtime watchdog: " + now.error().message);
  if (*now != "0") {
    say("on trial: systemd's runtime watchdog is set already (" + *now + "): left alone");
    return;
  }
  write_run_file(run_paths::kWatchdogDropIn,
                 "# imgroot assess --boot: the watchdog of a boot on trial, until its verdict\n"
                 "[Manager]\nRuntimeWatchdogSec=" + std::to_string(c.config.watchdog) + "\n");
  if (auto reloaded = run_program({"systemctl", "daemon-reload"}); !reloaded)
    return error("cannot arm the watchdog: " + reloaded.error().message);
  auto armed = runtime_watchdog();
  say("on trial: systemd's runtime watchdog armed (RuntimeWatchdogSec " +
      (armed ? *armed : armed.error().message) + ")");
}

// Disarm what arm_watchdog armed, once there is a verdict.
void disarm_watchdog(const Context& c) {
  if (!c.root.empty() || !exists_at(AT_FDCWD, run_paths::kWatchdogDropIn).value_or(false)) return;
  remove_run_file(run_paths::kWatchdogDropIn);
  if (auto reloaded = run_program({"systemctl", "daemon-reload"}); !reloaded)
    error("cannot disarm the watchdog: " + reloaded.error().message);
  // A watchdog left armed only resets a hung system, which is no harm.
}

std::vector<std::string> explanation(const Context& c) {
  auto status = state::read_status(c.hostpart, state::SystemPaths{});
  auto st = state::load_state(c.hostpart.dir.get());
  auto events = state::read_events(c.hostpart.dir.get());
  if (!status || !st || !events) return {};
  (void)state::remember_broken(c.hostpart.dir.get(), *st);  // in memory only: for the words
  return state::explain_rollback(*status, *st, *events);
}

int boot_record(const Context& c) {
  Running r = running(c);
  state::Event e{"", "boot", {}};
  if (auto id = read_file("/proc/sys/kernel/random/boot_id")) {
    std::string s = *id;
    while (!s.empty() && s.back() == '\n') s.pop_back();
    e.fields.emplace_back("boot_id", s);
  }
  if (auto cmdline = read_file("/proc/cmdline")) {
    auto config = parse_cmdline(*cmdline).config;
    if (config.image) e.fields.emplace_back("loaded", *config.image);
  }
  e.fields.emplace_back("image", r.image);
  if (!r.sha256.empty()) e.fields.emplace_back("sha256", r.sha256);
  if (r.trial) {
    e.fields.emplace_back("trial", std::string(r.trial->phase == grub::Phase::kNone
                                                   ? "none"
                                                   : grub::phase_value(r.trial->phase)));
    if (r.trial->tries_left) e.fields.emplace_back("tries_left", std::int64_t{*r.trial->tries_left});
  }
  log_event(c.hostpart, std::move(e));

  // An image given up at this boot's rotation: remembered, and logged.
  if (auto lock = lock_hostpart(c.hostpart)) {
    auto st = state::load_state(c.hostpart.dir.get());
    auto added = st ? state::remember_broken(c.hostpart.dir.get(), *st) : Result<bool>(false);
    if (st && added && *added) {
      const state::Rejected& gone = st->rejected.back();
      log_event(c.hostpart, {"", "given-up",
                    {{"image", std::string(host_files::kBroken)},
                     {"sha256", gone.sha256},
                     {"source", gone.source},
                     {"why", state::given_up_reason(gone)}}});
      if (auto saved = state::save_state(c.hostpart.dir.get(), std::move(*st)); !saved)
        error(saved.error().message);
    }
  }
  std::vector<std::string> lines;
  if (r.on_trial()) {
    arm_watchdog(c);
    lines.push_back(r.image + " is on trial (" +
                    grub::describe_trial(*r.trial) + "); its boot assessment has not finished");
  }
  auto why = explanation(c);
  lines.insert(lines.end(), why.begin(), why.end());
  banner(c, lines);
  return kExitOk;
}

void run_scripts(const std::string& dir, const char* label, const Context& c) {
  auto scripts = assess::find_scripts(dir);
  if (!scripts) return error(scripts.error().message);
  for (const auto& script : *scripts) {
    const std::string name = std::string(label) + "/" + script.substr(script.rfind('/') + 1);
    auto done = assess::run_script(script, assess::journal_tag(name), c.config.timeout);
    if (!done) error(done.error().message);
    else if (!done->passed) error(name + " failed (" + done->failure + "); the verdict stands");
  }
}

// Mark, log, run green.d or red.d, banner; on red, reboot when the plan says so.
int conclude(const Context& c, const assess::Verdict& v, const Running& r) {
  write_run_file(c.path(run_paths::kVerdict), v.green ? "green\n" : "red\n");
  disarm_watchdog(c);
  assess::RedPlan plan;
  if (!v.green) {
    auto st = state::load_state(c.hostpart.dir.get());
    auto old = stat_at(c.hostpart.dir.get(), host_files::kOld);
    assess::RedContext red;
    red.on_trial = r.on_trial();
    red.old_image_present = old && *old;
    if (st && red.old_image_present)
      if (const auto* rec = st->find(**old)) red.old_image_red = rec->assessment == state::Assessment::kBad;
    plan = assess::plan_red(red);
  }
  const auto verdict = v.green ? state::Assessment::kGood : state::Assessment::kBad;
  int rc = v.green ? kExitOk : kExitFailure;
  {
    auto lock = lock_hostpart(c.hostpart);
    if (!lock) return report(lock.error());
    auto done = state::record_verdict(c.hostpart, state::SystemPaths{}, c.esp, verdict);
    if (!done) {
      error("recording the verdict: " + done.error().message);
      rc = kExitFailure;
    }
  }
  state::Event e{"", "verdict",
                 {{"image", r.image},
                  {"result", std::string(v.green ? "green" : "red")},
                  {"failed", v.failed},
                  {"wanted_failed", v.wanted_failed}}};
  if (!r.sha256.empty()) e.fields.emplace_back("sha256", r.sha256);
  if (!v.green) {
    e.fields.emplace_back("action", plan.why);
    // Machine-readable for whoever watches the node (the rollout role): a red
    // image that is still running either goes away at the reboot below or stays.
    e.fields.emplace_back("reboot", plan.reboot);
  }
  log_event(c.hostpart, std::move(e));

  if (v.green) run_scripts(c.path(assess_paths::kGreenDir), "green.d", c);
  else run_scripts(c.path(assess_paths::kRedDir), "red.d", c);
  if (v.green) {
    say("green: " + r.image + " is good");
    banner(c, explanation(c));
    return rc;
  }
  std::string failed;
  for (const auto& f : v.failed) failed += (failed.empty() ? "" : ", ") + f;
  error("red: " + r.image + " is bad; failed: " + failed + "; " + plan.why);
  banner(c, {r.image + " failed its boot assessment: " + failed, plan.why});
  if (plan.reboot) {
    say("rebooting in " + std::to_string(c.config.reboot_delay) + "s");
    std::this_thread::sleep_for(std::chrono::seconds(c.config.reboot_delay));
    if (auto rebooted = run_program({"/bin/sh", "-c", c.reboot_command}); !rebooted)
      error("reboot: " + rebooted.error().message);
  }
  return rc;
}

// The assessment and the deadline take turns (run_paths::kAssessLock): a
// deadline that fires while the checks run waits for their verdict instead
// of writing a second one. Released when the returned descriptor closes.
Result<Fd> hold_assessment(const Context& c) {
  const std::string path = c.path(run_paths::kAssessLock);
  if (auto made = run_program({"mkdir", "-p", path.substr(0, path.rfind('/'))}); !made)
    return std::unexpected(made.error());
  auto fd = Fd::open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (!fd) return std::unexpected(fd.error());
  while (::flock(fd->get(), LOCK_EX) < 0)
    if (errno != EINTR) return fail_errno("lock " + path);
  return fd;
}

int assess_checks(const Context& c) {
  auto held = hold_assessment(c);
  if (!held) return report(std::move(held.error()).context("assess"));
  Running r = running(c);
  std::vector<assess::Check> checks = assess::builtin_checks(c.config);
  auto found = assess::find_checks(c.path(assess_paths::kCheckDir));
  if (!found) return report(found.error());
  checks.insert(checks.end(), found->begin(), found->end());

  assess::Retry retry;
  retry.run = [&c](const assess::Check& check) -> assess::Try {
    if (assess::is_builtin(check)) return assess::run_builtin(check, c.config);
    auto done = assess::run_script(check.path, assess::journal_tag(check.name), c.config.timeout);
    return done ? *done : assess::Try{false, done.error().message};
  };
  retry.sleep = [](int s) { std::this_thread::sleep_for(std::chrono::seconds(s)); };
  std::vector<assess::CheckResult> results;
  for (const auto& check : checks) {
    say("check " + check.name);
    auto result = assess::run_with_retries(check, c.config, retry);
    if (result.passed)
      say("check " + check.name + " passed" +
          (result.attempts > 1 ? " on try " + std::to_string(result.attempts) : ""));
    else
      error("check " + assess::describe_failure(result) + " failed");
    results.push_back(std::move(result));
  }
  auto verdict = assess::decide(results);
  for (const auto& w : verdict.wanted_failed) error("wanted check failed: " + w);
  return conclude(c, verdict, r);
}

int deadline(const Context& c) {
  auto held = hold_assessment(c);
  if (!held) return report(std::move(held.error()).context("assess --deadline"));
  if (exists_at(AT_FDCWD, c.path(run_paths::kVerdict)).value_or(false)) return kExitOk;
  Running r = running(c);
  if (!r.on_trial()) {
    say("no verdict yet, but the running image is not on trial: nothing to do");
    return kExitOk;
  }
  assess::Verdict v;
  v.green = false;
  v.failed.push_back("deadline (no verdict by the deadline)");
  return conclude(c, v, r);
}

}  // namespace

int run_assess(const std::vector<std::string>& args) {
  po::options_description options;
  options.add_options()("boot", po::bool_switch(), "the boot record, watchdog and banner only")(
      "deadline", po::bool_switch(), "a boot on trial without a verdict yet is red")(
      "root", po::value<std::string>()->default_value("")->value_name("DIR"),
      "read /etc and write /run below DIR")(
      "reboot-command", po::value<std::string>()->default_value(kDefaultReboot)->value_name("CMD"),
      "how to reboot after a red verdict on trial");
  add_hostpart_option(options);
  add_esp_option(options);
  auto parsed = parse("assess", args, options, {}, kUsage, kDescription);
  if (parsed.exit_now) return *parsed.exit_now;
  const auto& vars = parsed.vars;

  auto hostpart = open_hostpart(vars);
  if (!hostpart) return report(std::move(hostpart.error()).context("assess"));
  Context c{vars["root"].as<std::string>(), std::move(*hostpart), esp_option(vars), {},
            vars["reboot-command"].as<std::string>()};
  auto config = load_config(c.path(assess_paths::kConfig));
  if (!config) return report(std::move(config.error()).context("assess"));
  c.config = *config;
  if (vars["boot"].as<bool>()) return boot_record(c);
  if (vars["deadline"].as<bool>()) return deadline(c);
  return assess_checks(c);
}

}  // namespace imgroot::cli
