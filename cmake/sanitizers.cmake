# NVMSG_SANITIZE: "" | "address,undefined" | "thread"
set(NVMSG_SANITIZE "" CACHE STRING "sanitizers to build with")
if(NVMSG_SANITIZE)
  add_compile_options(-fsanitize=${NVMSG_SANITIZE} -fno-sanitize-recover=all
    -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${NVMSG_SANITIZE})
endif()
