// `imgroot provision`'s sizes and partition layout: lib/provision/layout.cc.
// The input is a size as typed after --esp-size, a NUL, then the disk
// size, the image size and the filesystem as raw bytes.
#include <fuzzer/FuzzedDataProvider.h>

#include <string>

#include "fuzz.h"
#include "provision/layout.h"

using namespace imgroot;
using namespace imgroot::provision;
using imgroot::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  const std::string_view typed = text.substr(0, text.find('\0'));
  FuzzedDataProvider in(data + typed.size(), size - typed.size());

  auto parsed = parse_size(typed);
  const std::uint64_t esp_size = parsed ? *parsed : in.ConsumeIntegral<std::uint64_t>();
  // Small disks and images are where the limits are; huge ones where
  // arithmetic wraps: both, by a shift.
  const std::uint64_t disk_size = in.ConsumeIntegral<std::uint64_t>() >> in.ConsumeIntegralInRange(0, 40);
  const std::uint64_t image_size = in.ConsumeIntegral<std::uint64_t>() >> in.ConsumeIntegralInRange(0, 40);
  const HostFs fs = in.PickValueInArray({HostFs::kExt4, HostFs::kBtrfs, HostFs::kXfs});

  auto layout = compute_layout(disk_size, esp_size, fs, image_size);
  if (!layout) {
    check(!layout.error().message.empty(), "a refused layout says why");
    return 0;
  }
  const Extent& esp = layout->esp;
  const Extent& host = layout->hostpart;
  check(esp.start == kMiB, "EFI-BOOT starts at 1 MiB");
  check(esp.size % kMiB == 0 && esp.size >= esp_size && esp.size - esp_size < kMiB, "EFI-BOOT is the size asked, rounded up to a MiB");
  check(esp.size >= kMinEspSize, "EFI-BOOT is at least the minimum for GRUB");
  check(esp.end() > esp.start && host.end() > host.start, "no extent wraps around");
  check(host.start == esp.end(), "hostpart follows EFI-BOOT without overlap");
  check(host.start % kMiB == 0 && host.size % kMiB == 0, "hostpart is whole MiB");
  check(disk_size >= kMiB && host.end() <= disk_size - kMiB, "the last MiB is left for the backup GPT");
  check(host.size >= min_host_fs_size(fs), "hostpart holds its filesystem");
  check(host.size >= image_size && host.size - image_size >= hostpart_overhead(image_size),
        "hostpart holds the image and the filesystem's own space");
  return 0;
}
