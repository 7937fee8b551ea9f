#include "provision/parted.h"

#include <parted/parted.h>

#include <memory>

namespace imgroot::provision {

namespace {

// libparted reports problems through one process-wide handler. While a
// Capture exists it collects them instead of letting libparted print and
// prompt; its answers never make libparted change anything it was not
// asked to (no "Fix", "Yes" or "Retry").
class Capture {
 public:
  Capture() {
    current_ = this;
    ped_exception_set_handler(&Capture::handle);
  }
  ~Capture() {
    ped_exception_set_handler(nullptr);  // back to libparted's default
    current_ = nullptr;
  }
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;

  // An error when libparted raised a warning or worse; 'what' leads the
  // message. With nothing raised, 'what' and 'fallback'.
  Error error(const std::string& what, const std::string& fallback = "libparted failed") const {
    return Error::plain(what + ": " + (problems_.empty() ? fallback : problems_));
  }
  bool has_problems() const { return !problems_.empty(); }

 private:
  static PedExceptionOption handle(PedException* ex) {
    if (current_ && ex->type >= PED_EXCEPTION_WARNING) {
      std::string message = ex->message ? ex->message : "unknown problem";
      while (!message.empty() && message.back() == '\n') message.pop_back();
      if (!current_->problems_.empty()) current_->problems_ += "; ";
      current_->problems_ += message;
    }
    const int options = ex->options;
    if (ex->type == PED_EXCEPTION_INFORMATION && (options & PED_EXCEPTION_OK)) return PED_EXCEPTION_OK;
    if (options & PED_EXCEPTION_CANCEL) return PED_EXCEPTION_CANCEL;
    if (options & PED_EXCEPTION_NO) return PED_EXCEPTION_NO;
    if (options & PED_EXCEPTION_IGNORE) return PED_EXCEPTION_IGNORE;  // recorded: the call fails
    return PED_EXCEPTION_UNHANDLED;
  }

  static inline Capture* current_ = nullptr;
  std::string problems_;
};

struct DeviceFree {
  void operator()(PedDevice* d) const { ped_device_destroy(d); }
};
struct DeviceClose {
  void operator()(PedDevice* d) const { (void)ped_device_close(d); }  // the commit already synced
};
struct DiskFree {
  void operator()(PedDisk* d) const { ped_disk_destroy(d); }
};
struct ConstraintFree {
  void operator()(PedConstraint* c) const { ped_constraint_destroy(c); }
};

Status add_partition(PedDisk* disk, const GptEntry& entry, const Capture& capture,
                     const std::string& what) {
  const long long sector = disk->dev->sector_size;
  const std::string which = what + ": partition " + quoted(entry.name);
  if (entry.extent.start % sector || entry.extent.size % sector || entry.extent.size == 0)
    return fail(which + ": not whole sectors of " + std::to_string(sector) + " bytes");
  PedFileSystemType* fs = ped_file_system_type_get(entry.fs_type.c_str());
  if (!fs) return fail(which + ": libparted does not know the type " + quoted(entry.fs_type));
  const PedSector start = static_cast<PedSector>(entry.extent.start) / sector;
  const PedSector end = static_cast<PedSector>(entry.extent.end()) / sector - 1;
  PedPartition* part = ped_partition_new(disk, PED_PARTITION_NORMAL, fs, start, end);
  if (!part) return std::unexpected(capture.error(which));
  std::unique_ptr<PedConstraint, ConstraintFree> exact(ped_constraint_exact(&part->geom));
  if (!exact || !ped_disk_add_partition(disk, part, exact.get())) {
    ped_partition_destroy(part);  // not the disk's until it is added
    return std::unexpected(capture.error(which));
  }
  if (part->geom.start != start || part->geom.end != end)
    return fail(which + ": libparted moved it");
  if (!ped_partition_set_name(part, entry.name.c_str()))
    return std::unexpected(capture.error(which + ": set the name"));
  if (entry.esp && !ped_partition_set_flag(part, PED_PARTITION_ESP, 1))
    return std::unexpected(capture.error(which + ": set the ESP flag"));
  return {};
}

}  // namespace

Status write_gpt(const std::string& device, const std::vector<GptEntry>& entries) {
  const std::string what = "write the GPT partition table on " + quoted(device);
  Capture capture;
  std::unique_ptr<PedDevice, DeviceFree> dev(ped_device_get(device.c_str()));
  if (!dev) return std::unexpected(capture.error(what));
  if (!ped_device_open(dev.get())) return std::unexpected(capture.error(what));
  std::unique_ptr<PedDevice, DeviceClose> opened(dev.get());
  PedDiskType* gpt = ped_disk_type_get("gpt");
  if (!gpt) return fail(what + ": this libparted has no GPT support");
  std::unique_ptr<PedDisk, DiskFree> disk(ped_disk_new_fresh(dev.get(), gpt));
  if (!disk) return std::unexpected(capture.error(what));
  for (const auto& entry : entries)
    if (auto s = add_partition(disk.get(), entry, capture, what); !s) return s;
  if (!ped_disk_commit_to_dev(disk.get())) return std::unexpected(capture.error(what));
  if (!ped_device_sync(dev.get())) return std::unexpected(capture.error(what, "sync failed"));
  if (capture.has_problems()) return std::unexpected(capture.error(what));
  return {};
}

}  // namespace imgroot::provision
