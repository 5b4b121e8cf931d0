# Warnings: everything the house style asks, errors in every build.
set(NVMSG_WARNINGS
  -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
  -Wvla -Wformat=2 -Wimplicit-fallthrough)
# -Wconversion where untrusted bytes are parsed (log, recover)
set(NVMSG_STRICT_WARNINGS)
set_source_files_properties(
  ${CMAKE_CURRENT_SOURCE_DIR}/src/log/header.c
  ${CMAKE_CURRENT_SOURCE_DIR}/src/log/record.c
  ${CMAKE_CURRENT_SOURCE_DIR}/src/recover/scan.c
  PROPERTIES COMPILE_OPTIONS "-Wconversion")
