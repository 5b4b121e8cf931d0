# wire.cmake -- the link protocol's frames (wire.h, docs/WIRE.md): a static
# library the daemon and fuzz/fuzz_wire.c link, and its unit test.
# Included by daemon/CMakeLists.txt.
add_library(nvmsgd_wire STATIC wire.c)
target_include_directories(nvmsgd_wire PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_compile_options(nvmsgd_wire PRIVATE ${NVMSG_WARNINGS}
  ${NVMSG_STRICT_WARNINGS})
# -Wconversion where untrusted bytes are parsed (cmake/warnings.cmake)
set_source_files_properties(wire.c PROPERTIES COMPILE_OPTIONS "-Wconversion")

if(BUILD_TESTING)
  add_executable(t_wire t_wire.c)
  target_compile_options(t_wire PRIVATE ${NVMSG_WARNINGS})
  target_include_directories(t_wire PRIVATE ${PROJECT_SOURCE_DIR}/tests/harness)
  # the harness names errors through nvmsg_strerror and nvmsg_errmsg
  target_link_libraries(t_wire PRIVATE nvmsgd_wire nvmsg_internal)
  add_test(NAME t_wire COMMAND t_wire)
  set_tests_properties(t_wire PROPERTIES LABELS unit TIMEOUT 60
    SKIP_RETURN_CODE 77)
endif()
