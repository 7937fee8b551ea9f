#include "provision/layout.h"

#include <cctype>
#include <charconv>
#include <limits>

#include "base/bytes.h"

namespace imgroot::provision {

namespace {

constexpr std::uint64_t kGptRoom = kMiB;  // before partition 1 and after the last one

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

// The filesystems provision makes on the host partition: the name --fs
// takes, and the smallest filesystem its mkfs makes.
constexpr struct {
  HostFs fs;
  const char* name;
  std::uint64_t min_size;
} kHostFilesystems[] = {
    {HostFs::kExt4, "ext4", 32 * kMiB},
    {HostFs::kBtrfs, "btrfs", 128 * kMiB},
    {HostFs::kXfs, "xfs", 300 * kMiB},
};

// nullopt when the result would not fit in 64 bits (sizes come from the
// command line: --esp-size 18446744073709551615 must not wrap to 0).
std::optional<std::uint64_t> round_up(std::uint64_t n, std::uint64_t to) {
  if (n > kMax - (to - 1)) return std::nullopt;
  return (n + to - 1) / to * to;
}
std::uint64_t round_down(std::uint64_t n, std::uint64_t to) { return n / to * to; }

std::optional<std::uint64_t> unit_factor(std::string_view unit) {
  std::string u;
  for (char c : unit) u += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (u.empty() || u == "b") return 1;
  if (u == "k" || u == "kib") return std::uint64_t{1} << 10;
  if (u == "m" || u == "mib") return std::uint64_t{1} << 20;
  if (u == "g" || u == "gib") return std::uint64_t{1} << 30;
  if (u == "t" || u == "tib") return std::uint64_t{1} << 40;
  return std::nullopt;
}

}  // namespace

std::optional<HostFs> parse_host_fs(std::string_view name) {
  for (const auto& h : kHostFilesystems)
    if (name == h.name) return h.fs;
  return std::nullopt;
}

const char* host_fs_name(HostFs fs) {
  for (const auto& h : kHostFilesystems)
    if (h.fs == fs) return h.name;
  return "?";
}

std::uint64_t min_host_fs_size(HostFs fs) {
  for (const auto& h : kHostFilesystems)
    if (h.fs == fs) return h.min_size;
  return 0;
}

Result<std::uint64_t> parse_size(std::string_view text) {
  const std::string what = "size '" + std::string(text) + "'";
  std::uint64_t number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || end == text.data())
    return fail(what + ": not a number with an optional unit (e.g. 128MiB, 1G)");
  auto factor = unit_factor(std::string_view(end, static_cast<std::size_t>(text.data() + text.size() - end)));
  if (!factor) return fail(what + ": unknown unit (use K, M, G or T, or KiB, MiB, GiB, TiB)");
  if (number > std::numeric_limits<std::uint64_t>::max() / *factor) return fail(what + ": too large");
  return number * *factor;
}

std::uint64_t hostpart_overhead(std::uint64_t image_size) {
  // Journal (up to 64 MiB for ext4 at these sizes), inode tables, and room
  // for the state files: a twentieth of the image plus 80 MiB.
  return image_size / 20 + 80 * kMiB;
}

Result<Layout> compute_layout(std::uint64_t disk_size, std::uint64_t esp_size, HostFs fs,
                              std::uint64_t image_size) {
  const std::string esp_what = "an EFI-BOOT partition of " + format_bytes(esp_size);
  // Compared before any arithmetic, so that nothing below wraps around.
  auto esp = esp_size <= disk_size ? round_up(esp_size, kMiB) : std::nullopt;
  if (!esp || disk_size < kGptRoom || *esp > disk_size - kGptRoom)
    return fail("the disk (" + format_bytes(disk_size) + ") is too small for " + esp_what +
                "; use a larger disk or a smaller --esp-size");
  if (*esp < kMinEspSize)
    return fail(esp_what + " is too small for GRUB (at least " + format_bytes(kMinEspSize) + ")");
  Layout layout;
  layout.disk_size = disk_size;
  layout.esp = {kGptRoom, *esp};
  const std::uint64_t host_start = layout.esp.end();
  const std::uint64_t host_end = disk_size > kGptRoom ? round_down(disk_size - kGptRoom, kMiB) : 0;
  const std::uint64_t overhead = hostpart_overhead(image_size);
  const auto image_room = image_size <= kMax - overhead ? round_up(image_size + overhead, kMiB) : std::nullopt;
  const std::uint64_t needed = std::max(min_host_fs_size(fs), image_room.value_or(kMax));
  const std::uint64_t have = host_end > host_start ? host_end - host_start : 0;
  if (have < needed) {
    std::string why = needed > min_host_fs_size(fs)
                          ? "the image (" + format_bytes(image_size) +
                                ") and the filesystem's own space need " + format_bytes(needed)
                          : std::string(host_fs_name(fs)) + " needs at least " + format_bytes(needed);
    return fail("the disk (" + format_bytes(disk_size) + ") is too small: the host partition would get " +
                format_bytes(have) + ", but " + why + "; use a larger disk" +
                (layout.esp.size > kMinEspSize ? " or a smaller --esp-size" : ""));
  }
  layout.hostpart = {host_start, host_end - host_start};
  return layout;
}

}  // namespace imgroot::provision
