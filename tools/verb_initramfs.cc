// imgroot initramfs: build the standalone initramfs (docs/initramfs.md).
// Policy lives here (defaults, where imgroot-init is, what to say); the
// mechanism is lib/initramfs.
#include <sys/utsname.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <set>

#include "initramfs/build.h"
#include "compress/zstd.h"
#include "initramfs/depmod.h"
#include "verbs.h"

namespace imgroot::cli {

namespace {

using namespace imgroot::initramfs;

// Disk controllers of servers and VMs, USB storage for installers, the
// filesystems a host partition or an image may hold. The init loads only
// those a device or a filesystem it meets needs, so the list costs size,
// not boot time.
constexpr const char* kDefaultModules =
    "virtio_pci virtio_blk virtio_scsi nvme ahci ata_piix sd_mod "
    "mpt3sas megaraid_sas smartpqi hpsa aacraid vmw_pvscsi xen_blkfront hv_storvsc "
    "xhci_pci ehci_pci usb_storage uas "
    "ext4 btrfs xfs squashfs erofs overlay loop";
constexpr const char* kInstalledInit = "/usr/lib/imgroot/imgroot-init";
constexpr int kZstdLevel = 19;

const char* kUsage =
    "initramfs --output FILE [--kernel-release VER] [--modules-root DIR]\n"
    "          [--modules LIST] [--add-modules LIST] [--init PATH]"
    " [--busybox PATH]";

constexpr const char* kDescription =
    "Write a zstd-compressed newc cpio archive to FILE (atomically): imgroot-init as /init,\n"
    "the directories it mounts on, /dev/console, the kernel modules of the list and of\n"
    "--add-modules with everything they need (modules.dep, and modules.softdep through\n"
    "modules.alias) copied to /lib/modules/RELEASE/, and with --busybox a static busybox at\n"
    "/bin/busybox with /bin/sh -> busybox for the rescue shell.\n"
    "\n"
    "imgroot-init loads a module of the list only when a device present needs it (its\n"
    "modalias matches one of the module's aliases, as udev would load it) or when it mounts\n"
    "a filesystem of that type; /etc/imgroot/modules.table holds each module's load order\n"
    "and aliases. Modules of --add-modules are loaded at every boot, first\n"
    "(/etc/imgroot/modules.load).\n"
    "Modules built into the kernel are skipped. Without modules.dep (a kernel package\n"
    "unpacked with dpkg -x), 'depmod -b ROOT RELEASE' is run first.\n"
    "\n"
    "LIST is module names separated by commas or spaces; '-' and '_' are the same. The\n"
    "default list is:\n"
    "  virtio_pci virtio_blk virtio_scsi nvme ahci ata_piix sd_mod mpt3sas megaraid_sas\n"
    "  smartpqi hpsa aacraid vmw_pvscsi xen_blkfront hv_storvsc xhci_pci ehci_pci\n"
    "  usb_storage uas ext4 btrfs xfs squashfs erofs overlay loop\n"
    "\n"
    "Without --init, imgroot-init is the first of: /usr/lib/imgroot/imgroot-init,\n"
    "DIR/../lib/imgroot/imgroot-init and DIR/../init/imgroot-init, where DIR is the\n"
    "directory of the running imgroot (/proc/self/exe; the second is an installed prefix,\n"
    "the third a build tree). /init and busybox must be statically linked.\n"
    "\n"
    "The output is reproducible: every entry has uid/gid 0 and mtime 0, or\n"
    "SOURCE_DATE_EPOCH when that is set. Prints one line: the file, the number of\n"
    "modules and the compressed size. Notes (a soft dependency that names nothing, a\n"
    "dependency cycle) go to stderr.";

std::vector<std::string> split_list(const std::vector<std::string>& values) {
  std::vector<std::string> names;
  for (const auto& value : values) {
    std::string word;
    for (char c : value + " ") {
      if (c == ',' || c == ' ' || c == '\t' || c == '\n') {
        if (!word.empty()) names.push_back(std::move(word));
        word.clear();
      } else {
        word += c;
      }
    }
  }
  return names;
}

Result<std::string> running_kernel_release() {
  struct utsname u {};
  if (::uname(&u) < 0) return fail_errno("uname");
  return std::string(u.release);
}

Result<std::string> default_init() {
  std::vector<std::string> candidates{kInstalledInit};
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto dir = exe.parent_path();
    candidates.push_back((dir / "../lib/imgroot/imgroot-init").lexically_normal());
    candidates.push_back((dir / "../init/imgroot-init").lexically_normal());
  }
  std::string tried;
  for (const auto& candidate : candidates) {
    if (::access(candidate.c_str(), F_OK) == 0) return candidate;
    tried += (tried.empty() ? "" : ", ") + quoted(candidate);
  }
  return fail("find imgroot-init: none of " + tried + " exists (use --init PATH)");
}

Result<uint32_t> entry_mtime() {
  auto epoch = source_date_epoch();
  if (!epoch) return std::unexpected(epoch.error());
  if (!*epoch) return 0u;
  if (**epoch > UINT32_MAX)
    return fail("SOURCE_DATE_EPOCH " + std::to_string(**epoch) +
                " does not fit newc's 32-bit mtime");
  return static_cast<uint32_t>(**epoch);
}

std::string mebibytes(size_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return text;
}

// The option's value when given, else what 'fallback' finds.
Result<std::string> given_or(const po::variables_map& vars, const char* option,
                             Result<std::string> (*fallback)()) {
  if (vars.count(option)) return vars[option].as<std::string>();
  return fallback();
}

// Fill in what the command line left to defaults.
Result<InitramfsSpec> spec_from(const po::variables_map& vars) {
  InitramfsSpec spec;
  auto release = given_or(vars, "kernel-release", running_kernel_release);
  if (!release) return std::unexpected(std::move(release.error()));
  spec.kernel_release = *release;
  spec.modules_root = vars["modules-root"].as<std::string>();
  auto init = given_or(vars, "init", default_init);
  if (!init) return std::unexpected(std::move(init.error()));
  spec.init = *init;
  if (vars.count("busybox")) spec.busybox = vars["busybox"].as<std::string>();
  spec.modules = split_list(vars.count("modules")
                                ? vars["modules"].as<std::vector<std::string>>()
                                : std::vector<std::string>{kDefaultModules});
  if (vars.count("add-modules"))
    spec.forced = split_list(vars["add-modules"].as<std::vector<std::string>>());
  auto mtime = entry_mtime();
  if (!mtime) return std::unexpected(std::move(mtime.error()));
  spec.mtime = *mtime;
  return spec;
}

// modules.dep is depmod's to write; an unpacked kernel package has none.
Status ensure_modules_dep(const InitramfsSpec& spec) {
  auto has = has_modules_dep(spec.modules_root, spec.kernel_release);
  if (!has)
    return std::unexpected(std::move(has.error()).context("find modules of kernel " +
                                                          spec.kernel_release));
  if (*has) return {};
  std::cerr << "imgroot initramfs: no modules.dep in "
            << quoted(modules_dir(spec.modules_root, spec.kernel_release))
            << ", running depmod -b " << quoted(spec.modules_root) << " "
            << spec.kernel_release << "\n";
  return run_depmod(spec.modules_root, spec.kernel_release);
}

}  // namespace

int run_initramfs(const std::vector<std::string>& args) {
  po::options_description options;
  options.add_options()
      ("output,o", po::value<std::string>()->required()->value_name("FILE"),
       "where to write the initramfs")
      ("kernel-release,k", po::value<std::string>()->value_name("VER"),
       "kernel release whose modules to include (default: uname -r)")
      ("modules-root", po::value<std::string>()->default_value("/")->value_name("DIR"),
       "take modules from DIR/lib/modules/VER")
      ("modules", po::value<std::vector<std::string>>()->composing()->value_name("LIST"),
       "modules to include instead of the default list, loaded when needed")
      ("add-modules", po::value<std::vector<std::string>>()->composing()->value_name("LIST"),
       "modules to include and load at every boot")
      ("init", po::value<std::string>()->value_name("PATH"),
       "the program to install as /init (default: see above)")
      ("busybox", po::value<std::string>()->value_name("PATH"),
       "a static busybox to install as /bin/busybox, with /bin/sh -> busybox")
      ("verbose,v", po::bool_switch(), "also list the modules, on stderr");
  auto parsed = parse("initramfs", args, options, {}, kUsage, kDescription);
  if (parsed.exit_now) return *parsed.exit_now;
  const auto& vars = parsed.vars;
  const std::string output = vars["output"].as<std::string>();
  const bool verbose = vars["verbose"].as<bool>();

  auto spec = spec_from(vars);
  if (!spec) return report(spec.error());
  if (auto st = ensure_modules_dep(*spec); !st) return report(st.error());
  auto initramfs = assemble_initramfs(*spec);
  if (!initramfs) return report(initramfs.error());
  auto compressed = compress_zstd(initramfs->cpio, kZstdLevel);
  if (!compressed) return report(compressed.error());
  if (auto st = write_initramfs(output, *compressed); !st) return report(st.error());

  if (verbose) {
    const std::set<std::string> forced(initramfs->forced.begin(), initramfs->forced.end());
    for (const auto& path : initramfs->modules)
      std::cerr << "  " << path << (forced.contains(path) ? " (every boot)" : "") << "\n";
  }
  for (const auto& note : initramfs->notes) std::cerr << "imgroot initramfs: note: " << note << "\n";
  std::cout << "wrote " << quoted(output) << ": " << initramfs->modules.size()
            << " modules for kernel " << spec->kernel_release << ", " << compressed->size()
            << " bytes zstd (" << mebibytes(compressed->size()) << "; "
            << mebibytes(initramfs->cpio.size()) << " uncompressed)\n";
  return kExitOk;
}

}  // namespace imgroot::cli
