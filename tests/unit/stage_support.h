// Helpers for the staging, state and CLI tests: images to stage, and (from
// test_support.h) temporary directories, files and running commands.
#pragma once

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "state/state_file.h"
#include "test_support.h"

namespace imgroot::test {

// What the state on the host partition 'hostpart' records for the image
// at 'path'.
inline state::ImageRecord recorded(int hostpart, const std::string& path) {
  auto state = state::load_state(hostpart);
  REQUIRE(state);
  const state::ImageRecord* r = state->find(stat_of(path));
  REQUIRE(r);
  return *r;
}

// A small ext4 image holding 'files' (path -> content; a content starting
// with "->" makes a symlink, "x:" an executable file), made without root
// by mkfs.ext4 -d.
inline void make_ext4_image(const std::string& image, const std::string& root,
                            const std::initializer_list<std::pair<std::string, std::string>>& files,
                            const std::string& size = "8M") {
  for (const auto& [path, content] : files) {
    std::filesystem::path p = root + "/" + path;
    std::filesystem::create_directories(p.parent_path());
    if (content.starts_with("->")) {
      std::filesystem::create_symlink(content.substr(2), p);
    } else if (content.starts_with("x:")) {
      write_text(p, content.substr(2));
      ::chmod(p.c_str(), 0755);
    } else {
      write_text(p, content);
    }
  }
  auto r = run("mkfs.ext4 -q -F -b 4096 -d " + shell_quote(root) + " " + shell_quote(image) + " " +
               size);
  if (r.status != 0) throw std::runtime_error("mkfs.ext4 failed: " + r.output);
}

// An image as docs/design.md section 1 describes it, with /boot/kernel a
// symlink (absolute, so it only resolves inside the image).
inline void make_good_image(const std::string& image, const std::string& root,
                            const std::string& size = "8M") {
  make_ext4_image(image, root,
                  {{"sbin/init", "x:#!/bin/sh\n"},
                   {"boot/vmlinuz-6.1.0-test", "kernel"},
                   {"boot/kernel", "->/boot/vmlinuz-6.1.0-test"},
                   {"boot/initramfs", "initramfs"}},
                  size);
}

// make_good_image as erofs; false with a warning when this machine has no
// mkfs.erofs (erofs-utils).
inline bool make_good_erofs_image(const std::string& image, const std::string& root) {
  if (run("command -v mkfs.erofs").status != 0) {
    WARN("skipped: no mkfs.erofs (erofs-utils)");
    return false;
  }
  make_good_image(image + ".ext4", root);  // writes the tree into 'root'
  auto r = run("mkfs.erofs --quiet " + shell_quote(image) + " " + shell_quote(root));
  if (r.status != 0) throw std::runtime_error("mkfs.erofs failed: " + r.output);
  return true;
}

// A 2 MiB image holding a filesystem imgroot does not boot ("vfat" or
// "minix"), made without root; the host kernel need not know the type.
inline void make_foreign_image(const std::string& image, const std::string& type) {
  const std::string q = shell_quote(image);
  auto r = type == "vfat" ? run("mkfs.vfat -C " + q + " 2048")
                          : run("truncate -s 2M " + q + " && mkfs." + type + " " + q);
  if (r.status != 0) throw std::runtime_error("mkfs." + type + " failed: " + r.output);
}

// How imgroot refuses 'image' holding 'type'.
inline std::string foreign_refusal(const std::string& image, const std::string& type) {
  return "'" + image + "' holds a filesystem of type " + type +
         "; imgroot boots only ext4, btrfs, xfs, squashfs and erofs images";
}

}  // namespace imgroot::test
