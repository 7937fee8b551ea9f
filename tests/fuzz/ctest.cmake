# Included by tests/CMakeLists.txt of the main (GCC) build when
# IMGROOT_SANITIZER_BUILD names a configured clang build with
# IMGROOT_FUZZ=ON, so that one ctest run counts these too.
#
#   sanitize.build      (fixture) builds the harnesses and unit_tests there.
#                       The most expensive test, so ctest starts it first;
#                       with one job, it takes the CPU the VM tests leave
#                       idle (a TCG guest waits on its timers and disks:
#                       about a quarter of two cores stayed idle in a run
#                       with two VMs), rather than a turn of its own before
#                       the run (tests/run.sh gives ctest a slot for it)
#   fuzz.<harness>      replays the seed corpus, then fuzzes for a bounded
#                       number of runs (tests/fuzz/run.sh)
#   sanitize.unit_tests the unit tests under ASan and UBSan; those that make
#                       or look up filesystems labelled hostpart run alone
#                       (every VM slot), as unit.* do
include(${CMAKE_CURRENT_LIST_DIR}/harnesses.cmake)
add_test(NAME sanitize.build
  COMMAND ${CMAKE_COMMAND} --build ${IMGROOT_SANITIZER_BUILD} --parallel 1 --target fuzz unit_tests)
set_tests_properties(sanitize.build PROPERTIES FIXTURES_SETUP sanitizer_build COST 100000
  TIMEOUT 3600)
set(sanitizer_tests sanitize.unit_tests sanitize.unit_tests_hostpart)
foreach(name IN LISTS IMGROOT_FUZZ_HARNESSES)
  add_test(NAME fuzz.${name}
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/run.sh ${IMGROOT_SANITIZER_BUILD}/tests/fuzz/fuzz_${name}
      ${CMAKE_CURRENT_LIST_DIR}/corpus/${name} ${CMAKE_CURRENT_BINARY_DIR}/fuzz-artifacts/${name})
  set_tests_properties(fuzz.${name} PROPERTIES TIMEOUT 300)
  list(APPEND sanitizer_tests fuzz.${name})
endforeach()
set(sanitized_unit_tests ${IMGROOT_SANITIZER_BUILD}/tests/unit_tests)
add_test(NAME sanitize.unit_tests COMMAND ${sanitized_unit_tests} "~[provision]~[hostpart]~[machine]")
add_test(NAME sanitize.unit_tests_hostpart COMMAND ${sanitized_unit_tests} "[provision],[hostpart],[machine]")
set_tests_properties(sanitize.unit_tests sanitize.unit_tests_hostpart PROPERTIES TIMEOUT 1800)
set_tests_properties(sanitize.unit_tests_hostpart PROPERTIES RESOURCE_GROUPS ${IMGROOT_ALL_VMS})
set_tests_properties(${sanitizer_tests} PROPERTIES FIXTURES_REQUIRED sanitizer_build)
