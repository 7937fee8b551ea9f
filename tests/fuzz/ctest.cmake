# Included by tests/CMakeLists.txt of the main (GCC) build when
# IMGROOT_SANITIZER_BUILD names a clang build with IMGROOT_FUZZ=ON, so that
# one ctest run counts these too (tests/run.sh builds that directory first).
#
#   fuzz.<harness>      replays the seed corpus, then fuzzes for a bounded
#                       number of runs (tests/fuzz/run.sh)
#   sanitize.unit_tests the unit tests under ASan and UBSan; those that make
#                       or look up filesystems labelled hostpart run alone
#                       (every VM slot), as unit.* do
include(${CMAKE_CURRENT_LIST_DIR}/harnesses.cmake)
foreach(name IN LISTS IMGROOT_FUZZ_HARNESSES)
  add_test(NAME fuzz.${name}
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/run.sh ${IMGROOT_SANITIZER_BUILD}/tests/fuzz/fuzz_${name}
      ${CMAKE_CURRENT_LIST_DIR}/corpus/${name} ${CMAKE_CURRENT_BINARY_DIR}/fuzz-artifacts/${name})
  set_tests_properties(fuzz.${name} PROPERTIES TIMEOUT 300)
endforeach()
set(sanitized_unit_tests ${IMGROOT_SANITIZER_BUILD}/tests/unit_tests)
add_test(NAME sanitize.unit_tests COMMAND ${sanitized_unit_tests} "~[provision]~[hostpart]~[machine]")
add_test(NAME sanitize.unit_tests_hostpart COMMAND ${sanitized_unit_tests} "[provision],[hostpart],[machine]")
set_tests_properties(sanitize.unit_tests sanitize.unit_tests_hostpart PROPERTIES TIMEOUT 1800)
set_tests_properties(sanitize.unit_tests_hostpart PROPERTIES RESOURCE_GROUPS ${IMGROOT_ALL_VMS})
