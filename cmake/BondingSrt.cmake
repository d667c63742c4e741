# SPDX-License-Identifier: MPL-2.0
# Finds the project's static libsrt built with ENABLE_BONDING=ON (tools/setup makes it)
# and refuses to configure against one whose srt_create_group() does not work.
#
# Debian's libsrt (libsrt.so.1.5) has no bonding and has the same soname, so it is
# never used: libsrt.a is linked statically.

set(BONDCAST_SRT_ROOT "" CACHE PATH "Prefix of a libsrt built with bonding (tools/setup prints it)")

set(_bondcast_srt_howto
    "Run tools/setup (as root on Debian 12): it builds libsrt 1.5.1 with ENABLE_BONDING=ON and the "
    "project's patches into ~/.cache/bondcast and prints the prefix; pass it as "
    "-DBONDCAST_SRT_ROOT=<prefix>. tools/run does both.")

# find_path/find_library cache their results: forget them when BONDCAST_SRT_ROOT changes,
# or a reconfigure with another prefix silently keeps linking the old libsrt.
if(NOT "${BONDCAST_SRT_ROOT}" STREQUAL "${_BONDCAST_SRT_ROOT_FOUND}")
  unset(BONDCAST_SRT_INCLUDE_DIR CACHE)
  unset(BONDCAST_SRT_LIBRARY CACHE)
  set(_BONDCAST_SRT_ROOT_FOUND "${BONDCAST_SRT_ROOT}" CACHE INTERNAL "")
endif()
find_path(BONDCAST_SRT_INCLUDE_DIR srt/srt.h PATHS ${BONDCAST_SRT_ROOT}/include NO_DEFAULT_PATH)
find_library(BONDCAST_SRT_LIBRARY NAMES libsrt.a PATHS ${BONDCAST_SRT_ROOT}/lib NO_DEFAULT_PATH)
if(NOT BONDCAST_SRT_INCLUDE_DIR OR NOT BONDCAST_SRT_LIBRARY)
  message(FATAL_ERROR "No static libsrt with bonding found under BONDCAST_SRT_ROOT='${BONDCAST_SRT_ROOT}'. "
                      ${_bondcast_srt_howto})
endif()

find_package(OpenSSL REQUIRED)
add_library(bondcast_libsrt STATIC IMPORTED GLOBAL)
set_target_properties(bondcast_libsrt PROPERTIES IMPORTED_LOCATION ${BONDCAST_SRT_LIBRARY})
target_include_directories(bondcast_libsrt INTERFACE ${BONDCAST_SRT_INCLUDE_DIR})
target_link_libraries(bondcast_libsrt INTERFACE OpenSSL::Crypto Threads::Threads)
add_library(bondcast::srt ALIAS bondcast_libsrt)

# Refuse a libsrt whose bonding does not work (built without ENABLE_BONDING).
set(_probe ${CMAKE_BINARY_DIR}/CMakeFiles/srt_bonding_probe.cpp)
file(WRITE ${_probe} [=[
#include <srt/srt.h>
int main() {
  srt_startup();
  SRTSOCKET g = srt_create_group(SRT_GTYPE_BROADCAST);
  int ok = g != SRT_INVALID_SOCK;
  if (ok) srt_close(g);
  srt_cleanup();
  return ok ? 0 : 1;
}
]=])
# A sanitized libsrt (tools/run test --sanitize, tools/verify-srt-patches) needs the
# sanitizer's runtime on the link; try_run does not see the directory's add_link_options().
set(_srt_probe_link_opts "")
if(BONDCAST_SANITIZE)
  set(_srt_probe_link_opts -fsanitize=${BONDCAST_SANITIZE})
endif()
try_run(_srt_run _srt_compile SOURCES ${_probe}
        CMAKE_FLAGS "-DINCLUDE_DIRECTORIES=${BONDCAST_SRT_INCLUDE_DIR}"
        LINK_OPTIONS ${_srt_probe_link_opts}
        LINK_LIBRARIES ${BONDCAST_SRT_LIBRARY} OpenSSL::Crypto Threads::Threads
        COMPILE_OUTPUT_VARIABLE _srt_compile_out)
if(NOT _srt_compile)
  message(FATAL_ERROR "Could not link a program against ${BONDCAST_SRT_LIBRARY}:\n${_srt_compile_out}\n"
                      ${_bondcast_srt_howto})
endif()
if(NOT _srt_run EQUAL 0)
  message(FATAL_ERROR "${BONDCAST_SRT_LIBRARY} has no working bonding (srt_create_group fails). "
                      ${_bondcast_srt_howto})
endif()
message(STATUS "libsrt with bonding: ${BONDCAST_SRT_LIBRARY}")

# FFmpeg's libavformat (and GStreamer's srt plugin) load Debian's libsrt.so.1.5 into the
# same process. Keep our static libsrt's symbols out of the dynamic symbol table, so
# neither copy binds to the other's functions or globals (without this, both run the
# same global destructors at exit and the process crashes).
target_link_options(bondcast_libsrt INTERFACE "LINKER:--exclude-libs,libsrt.a")
