#!/bin/bash
# Build the two Debian images the distro.* tests boot, into
# $IMGROOT_DEBIAN_SHARED (default $IMGROOT_TEST_SHARED/debian):
#
#   A.img, B.img   ext4 root images, each a copy of the debootstrapped root
#                  (make-rootfs.sh) plus: the test kernel's vmlinuz with only
#                  the modules its initramfs carries, /boot/initramfs built by
#                  `imgroot initramfs`, /boot/kernel and /boot/initramfs
#                  links to them, imgroot's Debian package installed with apt
#                  (install_imgroot), EFI-BOOT
#                  in /etc/fstab at /boot/loader, and the test driver: a
#                  systemd unit ordered after multi-user.target that reports
#                  on the serial console and then does what the host
#                  partition asks (imgroot-test-driver below), and the
#                  boot assessment's test checks and hang, inert unless the
#                  host partition asks (install_assess_fixtures). B differs from
#                  A in its name (/etc/imgroot-test-name) and its /etc/hostname.
#   release.key, release.pub
#                  a signing key made for this build (`imgroot key generate`);
#                  both images trust release.pub (/etc/imgroot/keys/), so
#                  they stage only releases it signed (distro.stage_url)
#   images.env     A_SHA256, B_SHA256, RELEASE_KEY_ID: what the tests compare with
#
# IMGROOT_BUILD_DIR names the build tree whose imgroot is installed (CTest
# passes it; by hand, build/). Made with mkfs.ext4 -d: nothing is mounted.
set -euo pipefail
# shellcheck source=tests/qemu/debian/debian-lib.sh
source "$(dirname "$0")/debian-lib.sh"

: "${IMGROOT_BUILD_DIR:=$REPO_ROOT/build}"
out=$IMGROOT_DEBIAN_SHARED
# Loaded by the initramfs and still loaded in the image: the virtio disk,
# ext4 (with crc32c through its softdep), the loop-mounted image, the overlay
# of imgroot.overlay=, and vfat for EFI-BOOT at /boot/loader.
modules="virtio_pci virtio_blk ext4 loop overlay vfat nls_cp437 nls_ascii"
# Only in the image, for udev to load when the VM has the device: the
# virtio NIC of distro.stage_url (the other tests run without a network).
image_modules="virtio_net"

need_commands cmake mkfs.ext4 depmod modprobe zstd cpio
((EUID == 0)) || die "building the images needs root (device nodes and owners of the Debian root)"
load_kernel_env
[[ -r $IMGROOT_TEST_SHARED/debian-rootfs.env ]] ||
  die "no Debian root: run tests/qemu/debian/make-rootfs.sh --env-out $IMGROOT_TEST_SHARED/debian-rootfs.env"
# shellcheck source=/dev/null
source "$IMGROOT_TEST_SHARED/debian-rootfs.env"
[[ -e $DEBIAN_ROOTFS/.imgroot-rootfs ]] || die "$DEBIAN_ROOTFS is not a complete root (rerun make-rootfs.sh)"
[[ -x $IMGROOT_BUILD_DIR/tools/imgroot ]] || die "imgroot is not built in $IMGROOT_BUILD_DIR"
tool=$IMGROOT_BUILD_DIR/tools/imgroot

# install_imgroot ROOT: imgroot as a node gets it, from its Debian package
# (tests/package/build-deb.sh): `apt-get install ./imgroot_*.deb` in a
# chroot. Its dependencies are in the debootstrapped root, so apt needs no
# network; its postinst enables imgroot-mark-good.service.
install_imgroot() {
  local root=$1 deb name unit=imgroot-mark-good.service
  deb=$("$REPO_ROOT/tests/package/build-deb.sh" "$IMGROOT_BUILD_DIR" "$root.deb") ||
    die "building the Debian package from $IMGROOT_BUILD_DIR failed"
  name=$(basename "$deb")
  cp "$deb" "$root/tmp/$name"
  rm -rf "$root.deb"
  if ! chroot "$root" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "/tmp/$name" >"$root.install.log" 2>&1; then
    cat "$root.install.log" >&2
    die "apt-get install ./$name in the Debian root failed"
  fi
  rm -f "$root/tmp/$name" "$root.install.log"
  [[ -L $root/etc/systemd/system/multi-user.target.wants/$unit ]] ||
    die "the package's postinst did not enable $unit"
  # The distro.* boots have no network and their verdict is not about sshd:
  # the built-in TCP check (port 22) is off; the other built-in checks stay
  # on (docs/assessment.md). The fleet's images turn it on again.
  printf '# distro.* test image: its verdict is not about sshd\ntcp_check=no\n' >"$root/etc/imgroot/assess.conf"
}

# install_release_key ROOT: the node trusts the key releases are signed with,
# as a real node does: its public half in the image's keys directory.
install_release_key() {
  local root=$1
  rm -f "$out/release.key" "$out/release.pub"
  release_key_id=$("$tool" key generate "$out/release" | sed -n 's/^key id //p')
  [[ -n $release_key_id ]] || die "imgroot key generate $out/release printed no key id"
  install -D -m 0644 "$out/release.pub" "$root/etc/imgroot/keys/release.pub"
}

# install_kernel ROOT: the test kernel as /boot/vmlinuz-KVER, its initramfs
# as /boot/initrd.img-KVER (imgroot-init from ROOT), the links the image
# contract wants, and in /lib/modules/KVER only the modules the initramfs
# carries and $image_modules with what they depend on (everything else the
# guest has no hardware for).
install_kernel() {
  local root=$1 unpack
  mkdir -p "$root/boot"
  cp "$KERNEL_IMAGE" "$root/boot/vmlinuz-$KVER"
  "$tool" initramfs --output "$root/boot/initrd.img-$KVER" --kernel-release "$KVER" \
    --modules-root "$MODULES_ROOT" --modules "$modules" \
    --init "$root/usr/lib/imgroot/imgroot-init" >/dev/null ||
    die "imgroot initramfs for the Debian image failed"
  ln -sfn "vmlinuz-$KVER" "$root/boot/kernel"
  ln -sfn "initrd.img-$KVER" "$root/boot/initramfs"
  unpack=$(mktemp -d "$out/.initramfs.XXXXXX")
  zstd -dc "$root/boot/initrd.img-$KVER" | (cd "$unpack" && cpio -idm --quiet "lib/modules/*")
  rm -rf "$root/lib/modules/$KVER"
  mkdir -p "$root/lib/modules"
  cp -a "$unpack/lib/modules/$KVER" "$root/lib/modules/$KVER"
  cp "$MODULES_ROOT/lib/modules/$KVER"/modules.{builtin,builtin.modinfo,order} "$root/lib/modules/$KVER/"
  local m deps ko
  for m in $image_modules; do
    # One module a call: modprobe takes further words as its parameters.
    deps=$(modprobe -S "$KVER" -d "$MODULES_ROOT" --show-depends "$m") ||
      die "no module $m for $KVER in $MODULES_ROOT"
    while read -r ko; do
      install -D -m 0644 "$ko" "$root/lib/modules/$KVER/${ko#"$MODULES_ROOT/lib/modules/$KVER/"}"
    done < <(awk '$1 == "insmod" { print $2 }' <<<"$deps")
  done
  depmod -b "$root" "$KVER"
  rm -rf "$unpack"
}

# install_driver ROOT: the test driver and its unit, enabled.
install_driver() {
  local root=$1
  install -m 0755 "$(dirname "$0")/imgroot-test-driver" "$root/usr/local/sbin/imgroot-test-driver"
  cat >"$root/etc/systemd/system/imgroot-test-driver.service" <<'UNIT'
# The distro.* tests' driver (tests/qemu/debian/imgroot-test-driver).
[Unit]
Description=imgroot test driver
After=multi-user.target imgroot-mark-good.service

[Service]
# simple, not oneshot: the boot is complete once the driver has started,
# and the driver waits for that (systemctl is-system-running --wait).
Type=simple
ExecStart=/usr/local/sbin/imgroot-test-driver
StandardOutput=tty
StandardError=tty

[Install]
WantedBy=multi-user.target
UNIT
  ln -sfn /etc/systemd/system/imgroot-test-driver.service \
    "$root/etc/systemd/system/multi-user.target.wants/imgroot-test-driver.service"
  # No login prompt on the serial console: nobody logs in, and its output
  # would land in the middle of the driver's lines.
  ln -sfn /dev/null "$root/etc/systemd/system/serial-getty@ttyS0.service"
}

# install_assess_fixtures ROOT: what the distro.* scenarios of the boot
# assessment (docs/assessment.md) switch on from the host partition, so that
# A and B stay two images: a required and a wanted check, each running the
# script data/imgroot-test/<kind>-<image name> when there (passing when not);
# a generator that, when data/imgroot-test/hang-<image name> holds a number
# of seconds, adds a unit that keeps multi-user.target from ever being
# reached (reporting systemd's runtime watchdog while it waits) and sets the
# deadline of imgroot-assess-deadline.timer to that
# number; and assess.conf settings that keep the test short (one retry 2 s
# later, a red verdict reboots after 5 s).
install_assess_fixtures() {
  local root=$1 kind gen=$1/etc/systemd/system-generators/imgroot-test-hang
  for kind in required wanted; do
    mkdir -p "$root/etc/imgroot/check.d/$kind"
    cat >"$root/etc/imgroot/check.d/$kind/50-imgroot-test" <<'CHECK'
#!/bin/sh
# A distro.* test check: runs what the host partition holds for it, if anything.
script=/hostpart/data/imgroot-test/$(basename "$(dirname "$0")")-$(cat /etc/imgroot-test-name)
[ -r "$script" ] || exit 0
exec /bin/sh "$script"
CHECK
    chmod 0755 "$root/etc/imgroot/check.d/$kind/50-imgroot-test"
  done
  mkdir -p "$(dirname "$gen")"
  cat >"$gen" <<'GENERATOR'
#!/bin/sh
# A distro.* test generator: a boot that never reaches multi-user.target,
# when the host partition asks for one, with a short assessment deadline.
set -eu
seconds=$(cat "/hostpart/data/imgroot-test/hang-$(cat /etc/imgroot-test-name)" 2>/dev/null) || exit 0
out=$1
# While it hangs it reports systemd's runtime watchdog every 2 s ($$ is a
# literal $ for systemd): armed during the trial, disarmed by the verdict
# the deadline gives.
cat >"$out/imgroot-test-hang.service" <<'UNIT'
[Unit]
Description=imgroot test: a start job that never ends
Before=multi-user.target
After=imgroot-boot.service
[Service]
Type=oneshot
ExecStart=/bin/sh -c 'while :; do echo "IMGROOT-TEST: runtime-watchdog $$(systemctl show --value -p RuntimeWatchdogUSec)"; sleep 2; done'
StandardOutput=tty
TimeoutStartSec=infinity
UNIT
mkdir -p "$out/multi-user.target.wants" "$out/imgroot-assess-deadline.timer.d"
ln -sf ../imgroot-test-hang.service "$out/multi-user.target.wants/imgroot-test-hang.service"
printf '[Timer]\nOnBootSec=\nOnBootSec=%ss\n' "$seconds" >"$out/imgroot-assess-deadline.timer.d/imgroot-test.conf"
GENERATOR
  chmod 0755 "$gen"
  printf 'retries=1\ninterval=2\nreboot_delay=5\n' >>"$root/etc/imgroot/assess.conf"
}

# image_size_mib DIR: room for DIR's files, ext4's metadata and what a boot
# writes (a quarter more, and 64 MiB).
image_size_mib() {
  local kib
  kib=$(du -sk --apparent-size "$1" | cut -f1)
  echo $((kib * 5 / 4 / 1024 + 64))
}

# make_image NAME DIR: DIR as ext4 NAME.img.
make_image() {
  local name=$1 dir=$2 img
  img=$(debian_image "$name")
  rm -f "$img" "$img.tmp"
  mkfs.ext4 -q -F -b 4096 -L "debian-$name" -E root_owner=0:0 -d "$dir" "$img.tmp" \
    "$(image_size_mib "$dir")M" >"$img.log" 2>&1 ||
    { cat "$img.log" >&2; die "mkfs.ext4 of image $name failed"; }
  rm -f "$img.log"
  mv "$img.tmp" "$img"
}

# name_image DIR NAME: what tells the images apart.
name_image() {
  printf '%s\n' "$2" >"$1/etc/imgroot-test-name"
  printf 'debian-image-%s\n' "${2,,}" >"$1/etc/hostname"
}

mkdir -p "$out"
start=$SECONDS
dir=$(mktemp -d "$out/.root.XXXXXX")
trap 'rm -rf --one-file-system "$dir"' EXIT
cp -a "$DEBIAN_ROOTFS/." "$dir/"
rm -f "$dir/.imgroot-rootfs"
# Documentation, translations and the package lists are no use on a test node.
rm -rf "$dir"/usr/share/{doc,man,info,locale}/* "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin
mkdir -p "$dir/hostpart" "$dir/boot/loader"
install_imgroot "$dir"
install_release_key "$dir"
install_kernel "$dir"
install_driver "$dir"
install_assess_fixtures "$dir"
cat >"$dir/etc/fstab" <<'FSTAB'
# / is the image itself, mounted by imgroot-init, as is /hostpart.
LABEL=EFI-BOOT  /boot/loader  vfat  umask=0077  0  0
FSTAB

name_image "$dir" A
make_image A "$dir"
name_image "$dir" B
make_image B "$dir"

printf 'A_SHA256=%s\nB_SHA256=%s\nRELEASE_KEY_ID=%s\n' \
  "$(sha256sum <"$(debian_image A)" | cut -d' ' -f1)" \
  "$(sha256sum <"$(debian_image B)" | cut -d' ' -f1)" "$release_key_id" >"$out/images.env"
say "make-images.sh: A.img and B.img in $((SECONDS - start))s:"
ls -ls "$out"/*.img >&2
