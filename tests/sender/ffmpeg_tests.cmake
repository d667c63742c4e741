# SPDX-License-Identifier: MPL-2.0
# Tests of the sender's FFmpeg-based inputs and the TS helper. Included from
# tests/sender/CMakeLists.txt. The input tests run the ffmpeg/ffprobe command-line tools.
bondcast_add_test(sender_ts_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/ts_test.cpp
                  LIBS bondcast_sender_av)
bondcast_add_test(sender_av_input_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/av_input_test.cpp
                  LIBS bondcast_sender_av)
# Designated initializers that leave defaulted members out are the point in these tests.
target_compile_options(sender_ts_test PRIVATE -Wno-missing-field-initializers)
bondcast_add_test(sender_testsrc_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/testsrc_test.cpp
                  LIBS bondcast_sender_av)
