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
// flock(2)ed by every CLI verb that changes the images, imgroot/state.json or
// grubenv, for the whole read-check-write (state/host_lock.h).
inline constexpr const char* kLockFile = "imgroot/lock";
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
// Where rotation keeps what stood under an image name but was no image file
// (a directory, a symlink, a FIFO...), as NAME.N: out of the way of every
// rename, and never deleted (docs/crash-safety.md, "Odd entries").
inline constexpr const char* kSetAsideDir = "imgroot/set-aside";
// The owner and group names of its entries, beside it (boot/host_owners.h).
inline constexpr const char* kHostOwners = "imgroot/host-owners";
// A second name for an image while it is being given a new one. It is always
// a hard link to an image that has another name too, so removing it never
// loses data; a name no boot path ever loads.
inline constexpr const char* kLinkTemp = ".hn-root-link.tmp";

}  // namespace imgroot::host_files
