// SPDX-License-Identifier: MPL-2.0
// One owner for a C stream (STYLE.md rule 6): fclose()d once, by its owner. Streams the
// process does not own (stderr) are opened on a duplicate of their descriptor
// (openDuplicate), so that every File owns what it closes.
#pragma once

#include <cstdio>
#include <memory>

#include "common/fd.h"

namespace bondcast {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

// `fd` duplicated and opened as a stream for writing; null (errno set) on failure.
inline File openDuplicate(int fd) {
  Fd copy = Fd::dupOf(fd);
  if (!copy) {
    return nullptr;
  }
  File f(::fdopen(copy.get(), "w"));
  if (f) {
    copy.release();  // the stream owns it now
  }
  return f;
}

}  // namespace bondcast
