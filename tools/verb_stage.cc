// imgroot stage IMAGE: check an image and copy it in as hn-root-new.img.
#include <sys/stat.h>

#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "base/bytes.h"
#include "base/layout.h"
#include "esp_option.h"
#include "grub/esp.h"
#include "host_lock.h"
#include "hostpart_option.h"
#include "log_event.h"
#include "progress.h"
#include "release/fetch.h"
#include "release/on_node.h"
#include "release/signing.h"
#include "stage/stage.h"
#include "state/boot_trial.h"
#include "state/state_file.h"
#include "stop_signals.h"
#include "verbs.h"

namespace imgroot::cli {

namespace {

const char* kUsage =
    "stage [--hostpart DIR] [--esp DIR] [--tries N] [--init PATH] [--no-inspect]\n"
    "          [--cancel-revert] [--boots-without-grub] [--hash] [--force] IMAGE\n"
    "  or:  imgroot stage [options above] [--download-only] [--dry-run] [--json]\n"
    "                     [--keys DIR] [--insecure] [--allow-downgrade] URL";

const char* kDescription =
    "Check IMAGE (a regular file holding a filesystem with an executable /sbin/init,\n"
    "/boot/kernel and /boot/initramfs, inspected through a read-only loop mount that\n"
    "nothing else sees), copy it onto the host partition while computing its SHA-256,\n"
    "and rename the copy to hn-root-new.img: the next boot makes it the current image\n"
    "and keeps the current one as hn-root-old.img. A previously staged image is\n"
    "replaced. Holes in IMAGE stay holes; on btrfs or xfs, when IMAGE is on the host\n"
    "partition's filesystem, the copy is an instant reflink, which is not hashed\n"
    "(that would read the whole image) unless --hash asks for it. Interrupting the\n"
    "copy (Ctrl-C, kill) leaves the host partition as it was.\n\n"
    "Inspecting needs root and loop devices; --no-inspect skips the mount (the file\n"
    "type and filesystem are still checked) and trusts IMAGE to boot.\n\n"
    "IMAGE must hold ext4 (or ext2/ext3), btrfs, xfs, squashfs or erofs. erofs is\n"
    "refused unless --boots-without-grub: GRUB 2.06 (Debian 12) cannot read it, so\n"
    "it could not load the image's kernel.\n\n"
    "The staged image is then on trial (docs/grub.md): GRUB boots it at most --tries\n"
    "times (default 3) until 'imgroot mark-good', then goes back to the image before\n"
    "it. The count is kept in grub/grubenv on the EFI-BOOT partition (--esp, default\n"
    "/boot/loader); without that partition the image is staged without a trial.\n"
    "--tries 0 stages it without a trial.\n\n"
    "An image whose SHA-256 is that of one given up before (reverted, discarded or\n"
    "marked bad: it became hn-root-broken.img) is refused unless --force\n"
    "(docs/assessment.md); a release by its manifest, before anything is fetched.\n\n"
    "URL names a release 'imgroot publish' wrote: its manifest or a channel\n"
    "(http://, https://, file://, or a path to the manifest, the channel file or the\n"
    "release's directory). The image is assembled in imgroot/fetch/ on the host\n"
    "partition from the blocks the node already has (hn-root.img, hn-root-old.img,\n"
    "hn-root-broken.img, an interrupted download) and the compressed chunks it\n"
    "fetches for the rest, each checked against the release's index as it arrives,\n"
    "the whole image against the manifest's SHA-256 at the end; then it is staged as\n"
    "above. Interrupted (network cut, kill, power cut), the same command again keeps\n"
    "what was written and checked and fetches only the rest. Transient HTTP errors\n"
    "and stalls are retried for up to 5 minutes. --download-only stops after the\n"
    "check: a later 'imgroot stage URL' with the same URL stages it without the\n"
    "network. --json prints progress and the result as JSON lines on stdout.\n\n"
    "A release whose image (by the manifest's SHA-256) is already the current image\n"
    "(hn-root.img, with nothing staged and no revert pending) or the staged one\n"
    "(hn-root-new.img) is not staged again: the command says so and exits 0, having\n"
    "fetched only the manifest and its signature (with --json: \"changed\": false and\n"
    "the \"reason\", current or staged). --dry-run checks the manifest as a stage\n"
    "would (signature, downgrade, an image given up before) and says what a stage\n"
    "would do, writing nothing on the host partition.\n\n"
    "Signatures (docs/signing.md): with public keys in --keys DIR (default\n"
    "/etc/imgroot/keys, the running image's), a release must be signed by one of\n"
    "them (manifest.json.sig beside its manifest), and an IMAGE file is refused;\n"
    "--insecure stages anyway, says so, and records it. Without keys, releases are\n"
    "staged with a warning that nothing was checked. A release older than the\n"
    "running image's (the same name, a lower version) is refused unless\n"
    "--allow-downgrade ('imgroot revert' is not affected).";

// After staging: the image is on trial for 'tries' boots (state/boot_trial.h
// has why the image comes first).
// With --json, stdout carries JSON lines only: the sentence goes to stderr.
int put_on_trial(const std::optional<std::string>& esp, int tries, const std::string& what,
                 bool json = false) {
  auto trial = state::start_boot_trial(esp, tries);
  if (!trial)
    return report(std::move(trial.error())
                      .context(what + ": the image is staged, but its boot trial could not be "
                                      "started"));
  if (!*trial) {
    if (tries > 0)
      std::cerr << "imgroot: note: no EFI-BOOT partition at " << grub::kDefaultEsp
                << " (--esp DIR): the image boots without a trial, GRUB cannot count its boots\n";
  } else if (tries > 0) {
    (json ? std::cerr : std::cout) << "on trial: GRUB boots it at most " << tries
                                   << (tries == 1 ? " time" : " times") << " until 'imgroot mark-good'\n";
  }
  return kExitOk;
}

// The host partition and the EFI-BOOT partition the command line names: a
// wrong --esp is found before the copy, not after it.
struct Targets {
  state::Hostpart hostpart;
  std::optional<std::string> esp;
};

Result<Targets> open_targets(const po::variables_map& vars) {
  auto hostpart = open_hostpart(vars);
  if (!hostpart) return std::unexpected(hostpart.error());
  auto esp = esp_option(vars);
  if (esp)
    if (auto opened = grub::open_esp(*esp); !opened) return std::unexpected(opened.error());
  return Targets{std::move(*hostpart), std::move(esp)};
}

// StageRequest::before_publish: take the host partition's lock, held until
// the trial is started, so no other verb sees the image staged without it.
std::function<Status()> take_lock(const state::Hostpart& hostpart, std::optional<state::HostLock>& lock,
                                  const volatile std::sig_atomic_t* stop_requested) {
  return [&hostpart, &lock, stop_requested]() -> Status {
    auto locked = lock_hostpart(hostpart, stop_requested);
    if (!locked) return std::unexpected(locked.error());
    lock = std::move(*locked);
    return {};
  };
}

// The version of the running image's release of this name, when it came
// from one: a release below it is a downgrade.
std::optional<std::uint64_t> running_version(int hostpart, const std::string& name) {
  auto state = state::load_state(hostpart);
  struct stat st {};
  if (!state || ::fstatat(hostpart, host_files::kCurrent, &st, 0) < 0) return std::nullopt;
  const state::ImageRecord* r = state->find(st);
  if (!r || r->release != name + "-" + std::to_string(r->release_version)) return std::nullopt;
  return r->release_version;
}

// With trusted keys, an image file (no manifest, no signature) is staged
// only with --insecure.
Status check_image_file_trust(const po::variables_map& vars, stage::StageRequest& request) {
  const std::string dir = vars["keys"].as<std::string>();
  auto keys = release::read_trusted_keys(dir);
  if (!keys) return std::unexpected(keys.error());
  if (keys->empty()) return {};
  if (!vars["insecure"].as<bool>())
    return fail("this node trusts signing keys (" + dir + ") and an image file carries no "
                "signature: publish it ('imgroot publish --key') and stage the release, or pass "
                "--insecure; nothing was staged");
  std::cerr << "imgroot: warning: --insecure: staging an image file no key vouches for\n";
  request.signed_by = "insecure";
  return {};
}

// The last steps of both kinds of stage: the trial, and the event log.
int on_trial_and_logged(const state::Hostpart& hostpart, const std::optional<std::string>& esp,
                        int tries, const std::string& what, const stage::StageRequest& request,
                        const std::string& sha256, bool json = false) {
  const int rc = put_on_trial(esp, tries, what, json);
  state::Event event{"", "stage",
                     {{"image", std::string(host_files::kNew)},
                      {"source", request.source.empty() ? request.image : request.source},
                      {"sha256", sha256},
                      {"tries", std::int64_t{tries}},
                      {"forced", request.force}}};
  if (!request.release.empty()) event.fields.push_back({"release", request.release});
  log_event(hostpart, std::move(event));
  return rc;
}

const char* phase_name(release::FetchProgress::Phase phase) {
  using Phase = release::FetchProgress::Phase;
  switch (phase) {
    case Phase::kChecking: return "checking";
    case Phase::kSeeding: return "seeding";
    case Phase::kFetching: return "fetching";
    case Phase::kVerifying: return "verifying";
  }
  return "?";
}

nlohmann::ordered_json progress_json(const release::FetchProgress& p) {
  return {{"event", "progress"}, {"phase", phase_name(p.phase)}, {"total", p.total},
          {"resumed", p.resumed},  {"reused", p.reused},            {"fetched", p.fetched},
          {"received", p.received}, {"to_fetch", p.to_fetch},       {"verified", p.verified}};
}

// Progress of a release download: a bar on a terminal, JSON lines with --json.
class FetchReport {
 public:
  explicit FetchReport(bool json) : json_(json), bar_("checking") {}

  void operator()(const release::FetchProgress& p) {
    const auto now = std::chrono::steady_clock::now();
    const bool new_phase = p.phase != phase_;
    if (json_) {
      if (!new_phase && now - last_ < std::chrono::milliseconds(500)) return;
      last_ = now;
      phase_ = p.phase;
      std::cout << progress_json(p).dump() << std::endl;
      return;
    }
    if (new_phase) bar_.relabel(phase_name(p.phase));
    phase_ = p.phase;
    using Phase = release::FetchProgress::Phase;
    const std::string note = format_bytes(p.reused + p.resumed) + " found on the node, " +
                             format_bytes(p.fetched) + " fetched of " + format_bytes(p.total);
    switch (p.phase) {
      case Phase::kChecking:
      case Phase::kSeeding: bar_.update(p.resumed + p.reused, p.total); break;
      case Phase::kFetching: bar_.update(p.received, p.to_fetch, note); break;
      case Phase::kVerifying: bar_.update(p.verified, p.total); break;
    }
  }
  void clear() { bar_.clear(); }

 private:
  bool json_;
  ProgressBar bar_;
  release::FetchProgress::Phase phase_ = release::FetchProgress::Phase::kChecking;
  std::chrono::steady_clock::time_point last_{};
};

// What the release is, for the one line or JSON object of a stage that
// stages nothing.
nlohmann::ordered_json release_json(const char* event, bool changed, const release::Resolved& r,
                                    release::OnNode where, const std::string& signed_by) {
  const auto& m = r.manifest;
  nlohmann::ordered_json reason = nullptr;
  if (where != release::OnNode::kAbsent) reason = release::on_node_name(where);
  return {{"event", event},     {"changed", changed},         {"reason", reason},
          {"release", m.release()}, {"name", m.name},         {"version", m.version},
          {"sha256", m.image_sha256}, {"size", m.image_size}, {"manifest", r.manifest_url},
          {"signed_by", signed_by}, {"offline", r.offline}};
}

const char* file_of(release::OnNode where) {
  return where == release::OnNode::kStaged ? host_files::kNew : host_files::kCurrent;
}

// The release is the current or the staged image already: nothing to do.
int report_unchanged(bool json, bool dry_run, const release::Resolved& r, release::OnNode where,
                     const std::string& signed_by) {
  if (json) {
    std::cout << release_json(dry_run ? "dry-run" : "unchanged", false, r, where, signed_by).dump()
              << std::endl;
    return kExitOk;
  }
  std::cout << (dry_run ? "dry run: " : "") << "release " << r.manifest.release() << " is already the "
            << release::on_node_name(where) << " image (" << file_of(where) << "): nothing to stage\n";
  return kExitOk;
}

// --dry-run of a release the node does not have: what a stage would do.
int report_dry_run(bool json, const release::Resolved& r, const std::string& signed_by) {
  if (json) {
    std::cout << release_json("dry-run", true, r, release::OnNode::kAbsent, signed_by).dump()
              << std::endl;
    return kExitOk;
  }
  const auto& m = r.manifest;
  std::cout << "dry run: would stage release " << m.release() << " (" << m.filesystem << ", "
            << format_bytes(m.image_size) << ", signed by " << signed_by << ") as "
            << host_files::kNew
            << (r.offline ? ", from the download already checked in the store\n"
                          : ", fetching what the node does not have\n");
  return kExitOk;
}

// imgroot stage URL: assemble the release in the store, then stage it as a
// local image would be, by a hard link instead of a copy.
int stage_release(const po::variables_map& vars, stage::StageRequest request, int tries) {
  const bool json = vars["json"].as<bool>();
  const std::string url = request.image;
  const std::string what = "stage " + url;
  auto targets = open_targets(vars);
  if (!targets) return report(std::move(targets.error()).context(what));
  const auto& [hostpart, esp] = *targets;
  const auto* stop_requested = catch_stop_signals();
  const std::string keys_dir = vars["keys"].as<std::string>();
  auto keys = release::read_trusted_keys(keys_dir);
  if (!keys) return report(std::move(keys.error()).context(what));

  FetchReport progress(json);
  release::FetchRequest fetch;
  fetch.url = url;
  fetch.cancel = stop_requested;
  fetch.progress = [&progress](const release::FetchProgress& p) { progress(p); };
  fetch.accept = [&](const release::Manifest& m, const std::string& text,
                     const std::optional<std::string>& signature) -> Status {
    release::TrustInput in;
    in.release = m.release();
    in.version = m.version;
    in.signature = signature;
    in.manifest = text;
    in.keys_dir = keys_dir;
    in.trusted = &*keys;
    in.running_version = running_version(hostpart.dir.get(), m.name);
    in.insecure = vars["insecure"].as<bool>();
    in.allow_downgrade = vars["allow-downgrade"].as<bool>();
    auto trust = release::decide_trust(in);
    if (!trust) return std::unexpected(trust.error());
    request.signed_by = trust->signed_by;
    if (!trust->warning.empty()) std::cerr << "imgroot: warning: " << trust->warning << "\n";
    return {};
  };
  auto interrupted_or = [&](Error e) {
    if (*stop_requested)
      return report(Error::plain(what + ": interrupted; nothing was staged, what was fetched "
                                        "and checked is kept for the next run"));
    return report(std::move(e).context(what));
  };
  // The manifest decides whether there is anything to do: nothing else is
  // fetched, and nothing written, before it has.
  auto resolved = release::resolve_release(hostpart.dir.get(), fetch);
  if (!resolved) return interrupted_or(std::move(resolved.error()));
  auto where = release::image_on_node(hostpart.dir.get(), resolved->manifest.image_sha256);
  if (!where) return report(std::move(where.error()).context(what));
  const bool dry_run = vars["dry-run"].as<bool>();
  if (*where != release::OnNode::kAbsent)
    return report_unchanged(json, dry_run, *resolved, *where, request.signed_by);
  if (auto st = stage::refuse_given_up(hostpart.dir.get(), resolved->manifest.image_sha256, request.force); !st)
    return report(std::move(st.error()).context(what));
  if (dry_run) return report_dry_run(json, *resolved, request.signed_by);

  auto result = release::fetch_release(hostpart.dir.get(), fetch, *resolved);
  progress.clear();
  if (!result) return interrupted_or(std::move(result.error()));
  const release::Fetched fetched = std::move(*result);
  const auto& m = fetched.manifest;
  const auto& c = fetched.counts;
  if (vars["download-only"].as<bool>()) {
    if (json)
      std::cout << nlohmann::ordered_json{{"event", "downloaded"}, {"changed", true}, {"release", m.release()},
                                          {"sha256", m.image_sha256}, {"bytes_fetched", c.received},
                                          {"bytes_reused", c.reused + c.resumed}}
                       .dump()
                << std::endl;
    else
      std::cout << "downloaded " << m.release() << " and checked it (" << format_bytes(c.received)
                << " fetched, " << format_bytes(c.reused + c.resumed)
                << " found on the node); 'imgroot stage " << url
                << "' stages it without the network\n";
    return kExitOk;
  }

  request.image = hostpart.path + "/" + fetched.image;
  request.adopt = fetched.image;
  request.adopt_sha256 = m.image_sha256;
  request.source = fetched.manifest_url;
  request.release = m.release();
  request.release_version = m.version;
  request.bytes_fetched = c.received;
  request.bytes_reused = c.reused + c.resumed;
  std::optional<state::HostLock> lock;
  request.before_publish = take_lock(hostpart, lock, stop_requested);
  auto staged = stage::stage_image(hostpart.dir.get(), request, {});
  if (!staged) return report(std::move(staged.error()).context(what));
  if (auto st = release::clear_store(hostpart.dir.get()); !st)
    std::cerr << "imgroot: note: " << st.error().message << " (remove "
              << hostpart.path << "/" << host_files::kFetchDir << " by hand)\n";
  if (json)
    std::cout << nlohmann::ordered_json{{"event", "staged"},
                                        {"changed", true},
                                        {"release", m.release()},
                                        {"name", m.name},
                                        {"version", m.version},
                                        {"filesystem", staged->fs_type},
                                        {"size", m.image_size},
                                        {"sha256", m.image_sha256},
                                        {"bytes_fetched", c.received},
                                        {"bytes_reused", c.reused + c.resumed},
                                        {"offline", fetched.offline},
                                        {"signed_by", request.signed_by},
                                        {"path", hostpart.path + "/" + host_files::kNew}}
                     .dump()
              << std::endl;
  else {
    if (staged->cancelled_revert) std::cout << "cancelled the pending revert\n";
    std::cout << "staged release " << m.release() << " (" << staged->fs_type << ", "
              << format_bytes(m.image_size) << ") as " << hostpart.path << "/"
              << host_files::kNew << "\n";
    if (fetched.offline)
      std::cout << "downloaded earlier (--download-only): nothing fetched now\n";
    else
      std::cout << format_bytes(c.received) << " fetched, " << format_bytes(c.reused + c.resumed)
                << " found on the node\n";
    std::cout << "sha256 " << m.image_sha256 << "\n";
    std::cout << "the next boot makes it the current image\n";
  }
  return on_trial_and_logged(hostpart, esp, tries, what, request, m.image_sha256, json);
}

}  // namespace

int run_stage(const std::vector<std::string>& args) {
  po::options_description options;
  options.add_options()("image", po::value<std::string>()->required()->value_name("IMAGE"),
                        "the image to stage (also the first positional argument)")(
      "init", po::value<std::string>()->default_value("/sbin/init")->value_name("PATH"),
      "the program the image must have, executable, to boot")(
      "no-inspect", po::bool_switch(), "do not mount the image to look inside it")(
      "cancel-revert", po::bool_switch(),
      "cancel a pending revert (system-revert) instead of refusing to stage")(
      "boots-without-grub", po::bool_switch(),
      "the node boots without GRUB (PXE, a direct kernel boot): stage an erofs image")(
      "hash", po::bool_switch(),
      "compute the SHA-256 of a reflinked copy too (reads the whole image)")(
      "tries", po::value<int>()->default_value(grub::kDefaultTries)->value_name("N"),
      "boots GRUB gives the image before going back (1-9; 0: no trial)")(
      "force", po::bool_switch(),
      "stage an image even when one with the same SHA-256 was given up before")(
      "download-only", po::bool_switch(),
      "URL: fetch and check the release, do not stage it yet")(
      "dry-run", po::bool_switch(),
      "URL: check the release and say what a stage would do; write nothing")(
      "json", po::bool_switch(), "URL: progress and result as JSON lines on stdout")(
      "keys", po::value<std::string>()->default_value(trust_paths::kKeysDir)->value_name("DIR"),
      "the public keys (*.pub) a release must be signed by")(
      "insecure", po::bool_switch(), "stage what no trusted key signed (recorded as such)")(
      "allow-downgrade", po::bool_switch(), "URL: stage a release older than the running image's");
  add_hostpart_option(options);
  add_esp_option(options);
  auto parsed = parse("stage", args, options, {{"image"}}, kUsage, kDescription);
  if (parsed.exit_now) return *parsed.exit_now;
  const auto& vars = parsed.vars;
  const int tries = vars["tries"].as<int>();
  if (tries < 0 || tries > grub::kMaxTries)
    return usage_error("stage", "--tries " + std::to_string(tries) + ": not 0 to " +
                                    std::to_string(grub::kMaxTries));

  stage::StageRequest request;
  request.image = vars["image"].as<std::string>();
  request.init = vars["init"].as<std::string>();
  request.inspect = !vars["no-inspect"].as<bool>();
  request.cancel_revert = vars["cancel-revert"].as<bool>();
  request.boots_without_grub = vars["boots-without-grub"].as<bool>();
  request.force = vars["force"].as<bool>();
  if (release::names_release(request.image)) return stage_release(vars, std::move(request), tries);
  if (vars["download-only"].as<bool>() || vars["json"].as<bool>() || vars["dry-run"].as<bool>())
    return usage_error("stage",
                       "--download-only, --dry-run and --json are for a release URL, not an image file");
  const std::string what = "stage " + imgroot::quoted(request.image);
  if (vars["allow-downgrade"].as<bool>())
    return usage_error("stage", "--allow-downgrade is for a release URL, not an image file");
  if (auto st = check_image_file_trust(vars, request); !st)
    return report(std::move(st.error()).context(what));

  auto targets = open_targets(vars);
  if (!targets) return report(std::move(targets.error()).context(what));
  const auto& [hostpart, esp] = *targets;

  const auto* stop_requested = catch_stop_signals();
  // Taken once the copy is done.
  std::optional<state::HostLock> lock;
  stage::Staged staged;
  {
    ProgressBar bar("copying");
    request.before_publish = [&bar, take = take_lock(hostpart, lock, stop_requested)] {
      bar.clear();  // a "waiting for" line gets a line of its own
      return take();
    };
    stage::CopyControl control;
    control.progress = [&bar](std::uint64_t done, std::uint64_t total) { bar.update(done, total); };
    control.cancel = stop_requested;
    control.hash_reflink = vars["hash"].as<bool>();
    auto result = stage::stage_image(hostpart.dir.get(), request, control);
    if (!result) {
      if (*stop_requested) return report(Error::plain(what + ": interrupted; nothing was staged"));
      return report(std::move(result.error()).context(what));
    }
    staged = std::move(*result);
  }
  if (staged.cancelled_revert) std::cout << "cancelled the pending revert\n";
  std::cout << "staged " << request.image << " (" << staged.fs_type << ", "
            << format_bytes(staged.copy.size) << (staged.copy.reflinked ? ", reflinked" : "")
            << ") as " << hostpart.path << "/hn-root-new.img\n";
  if (staged.copy.sha256.empty())
    std::cout << "sha256 not computed: the copy is a reflink (--hash computes it)\n";
  else
    std::cout << "sha256 " << staged.copy.sha256 << "\n";
  std::cout << "the next boot makes it the current image\n";
  return on_trial_and_logged(hostpart, esp, tries, what, request, staged.copy.sha256);
}

}  // namespace imgroot::cli
