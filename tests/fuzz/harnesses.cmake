# The harnesses: tests/fuzz/fuzz_<name>.cc, seeds in tests/fuzz/corpus/<name>/.
set(IMGROOT_FUZZ_HARNESSES cmdline grubenv mountinfo modules state_json cpio grub_settings layout
  module_table release_manifest release_index release_signature)
