# tls.cmake -- TLS 1.3 with mutual certificates for nvmsgd's links (tls.h,
# docs/TLS.md): a static library over Debian's OpenSSL 3, and its unit
# test, which makes its certificates with tests/net/mkcerts.sh.
# Included by daemon/CMakeLists.txt.
find_package(OpenSSL REQUIRED)
add_library(nvmsgd_tls STATIC tls.c)
target_include_directories(nvmsgd_tls PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_compile_options(nvmsgd_tls PRIVATE ${NVMSG_WARNINGS}
  ${NVMSG_STRICT_WARNINGS})
target_link_libraries(nvmsgd_tls PUBLIC OpenSSL::SSL OpenSSL::Crypto)

if(BUILD_TESTING)
  add_executable(t_tls t_tls.c)
  target_compile_options(t_tls PRIVATE ${NVMSG_WARNINGS})
  target_include_directories(t_tls PRIVATE ${PROJECT_SOURCE_DIR}/tests/harness)
  # the harness names errors through nvmsg_strerror and nvmsg_errmsg
  target_link_libraries(t_tls PRIVATE nvmsgd_tls nvmsg_internal)
  add_test(NAME t_tls COMMAND t_tls ${PROJECT_SOURCE_DIR}/tests/net/mkcerts.sh)
  set_tests_properties(t_tls PROPERTIES LABELS "unit;net" TIMEOUT 120
    SKIP_RETURN_CODE 77)
endif()
