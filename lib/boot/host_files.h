// The fixed names on the host partition (design.md section 1). Users and
// scripts rely on them; they are defined here and nowhere else.
#pragma once

namespace imgroot::host_files {

inline constexpr const char* kCurrent = "hn-root.img";
inline constexpr const char* kNew = "hn-root-new.img";
inline constexpr const char* kOld = "hn-root-old.img";
inline constexpr const char* kBroken = "hn-root-broken.img";
inline constexpr const char* kRevertFlag = "system-revert";
inline constexpr const char* kDataDir = "data";
inline constexpr const char* kStateDir = "imgroot";
// imgroot.overlay=persistent: one directory of changes per image (boot/overlay_layer.h).
inline constexpr const char* kOverlayDir = "imgroot/overlay";
// In kOverlayDir: the layers of images no longer on the host partition,
// moved aside for the operator to delete.
inline constexpr const char* kOrphanedLayersDir = ".orphaned";
// The extended attribute of an image file that names its layer.
inline constexpr const char* kLayerXattr = "user.imgroot.layer";
// The per-host identity: files that mirror absolute paths of the root
// ("imgroot/host/etc/hostname" is /etc/hostname), copied into the root at
// every boot (boot/host_identity.h, docs/host-identity.md).
inline constexpr const char* kHostIdentityDir = "imgroot/host";
// The owner and group names of its entries, beside it (boot/host_owners.h).
inline constexpr const char* kHostOwners = "imgroot/host-owners";
// A second name for an image while it is being given a new one. It is always
// a hard link to an image that has another name too, so removing it never
// loses data; a name no boot path ever loads.
inline constexpr const char* kLinkTemp = ".hn-root-link.tmp";

}  // namespace imgroot::host_files
