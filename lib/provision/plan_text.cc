// describe_plan: what `imgroot provision` prints before it erases anything.
#include <cstdio>

#include "base/bytes.h"
#include "base/layout.h"
#include "grub/config.h"
#include "provision/boot_files.h"
#include "provision/provision.h"

namespace imgroot::provision {

namespace {

std::string describe_fs(const FoundFilesystem& fs) {
  return fs.type + (fs.label.empty() ? "" : " " + quoted(fs.label));
}

std::string describe_disk(const Target& t) {
  if (t.is_file())
    return quoted(t.path) + " (a disk image file of " + format_bytes(t.size) +
           ", attached to a loop device while it is written)";
  return quoted(t.path) + " (" + (t.model.empty() ? "" : t.model + ", ") + format_bytes(t.size) + ")";
}

// What is on the disk now, one line each after the first.
std::string describe_contents(const DiskContents& c) {
  if (c.ambiguous) return "signatures libblkid cannot make sense of (contradicting each other)\n";
  if (c.whole_disk_fs) return "a " + describe_fs(*c.whole_disk_fs) + " filesystem on the whole disk\n";
  if (c.table.empty()) return "nothing libblkid recognises (no partition table, no filesystem)\n";
  std::string out = "a " + (c.table == "dos" ? std::string("DOS (MBR)") : c.table == "gpt" ? "GPT" : c.table) +
                    " partition table with " + std::to_string(c.partitions.size()) +
                    (c.partitions.size() == 1 ? " partition" : " partitions") +
                    (c.partitions.empty() ? "" : ":") + "\n";
  for (const auto& p : c.partitions) {
    out += "              " + std::to_string(p.number) + "  " + format_bytes(p.size);
    if (!p.name.empty()) out += ", named " + quoted(p.name);
    out += p.fs ? ", " + describe_fs(*p.fs) : ", no filesystem recognised";
    out += "\n";
  }
  return out;
}

std::string describe_partition(int number, const char* name, const Extent& e, const std::string& what) {
  char line[160];
  std::snprintf(line, sizeof line, "              %d  %-9s %9s at %-9s %s\n", number, name,
                format_bytes(e.size).c_str(), format_bytes(e.start).c_str(), what.c_str());
  return line;
}

}  // namespace

std::string describe_plan(const Plan& plan) {
  const Layout& l = plan.layout;
  const std::string fs = host_fs_name(plan.request.fs);
  std::string out = "The plan for " + describe_disk(plan.target) + ":\n";
  out += "  erase     everything on it: " + describe_contents(plan.target.contents);
  out += "  create    a GPT partition table with\n";
  out += describe_partition(1, labels::kEsp, l.esp,
                            std::string(l.esp.size >= kMinFat32Size ? "FAT32" : "FAT") + " labelled " +
                                quoted(labels::kEsp) + ", EFI system partition");
  out += describe_partition(2, labels::kHostpart, l.hostpart,
                            fs + " labelled " + quoted(labels::kHostpart));
  out += "  install   GRUB for x86_64 EFI (grub-mkimage) on " + std::string(labels::kEsp) + ": " +
         esp_files::kGrubEfiPath + ",\n            grub/grub.cfg (as 'imgroot grub' writes it), an empty grub/grubenv\n";
  out += "  stage     " + quoted(plan.request.image) + " (" + plan.image.fs_type + ", " +
         format_bytes(plan.image.size) + ") as " + host_files::kCurrent + " on " +
         labels::kHostpart + ", beside data/ and imgroot/\n";
  return out;
}

}  // namespace imgroot::provision
