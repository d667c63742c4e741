# SPDX-License-Identifier: MPL-2.0
# The sender's FFmpeg-based inputs (file/URL input, test source) and the pure TS helper.
# Included from sender/CMakeLists.txt.
add_library(bondcast_sender_av STATIC
  ${CMAKE_CURRENT_LIST_DIR}/av_input.cpp
  ${CMAKE_CURRENT_LIST_DIR}/testsrc.cpp
  ${CMAKE_CURRENT_LIST_DIR}/ts.cpp
)
target_include_directories(bondcast_sender_av PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(bondcast_sender_av PUBLIC bondcast_common PkgConfig::LIBAV spdlog::spdlog)
