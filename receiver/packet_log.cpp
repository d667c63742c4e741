// SPDX-License-Identifier: MPL-2.0
#include "receiver/packet_log.h"

#include <cerrno>
#include <cinttypes>
#include <cstring>

namespace bondcast::receiver {

Result<std::unique_ptr<PacketLog>> PacketLog::open(const std::string& path) {
  File f(std::fopen(path.c_str(), "w"));
  if (!f) {
    return Error{"cannot write packet log '" + path + "': " + std::strerror(errno)};
  }
  std::fputs("arrival_us,stream,link,seq,send_us,bytes,status\n", f.get());
  return std::unique_ptr<PacketLog>(new PacketLog(std::move(f)));
}

void PacketLog::delivered(std::int64_t arrival_us, const std::string& stream, int link,
                          std::uint64_t seq, std::int64_t send_us, std::size_t bytes) {
  std::fprintf(file_.get(), "%" PRId64 ",%s,%d,%" PRIu64 ",%" PRId64 ",%zu,delivered\n", arrival_us,
               stream.c_str(), link, seq, send_us, bytes);
}

void PacketLog::lost(std::int64_t at_us, const std::string& stream, std::uint64_t first_seq,
                     std::uint64_t count) {
  for (std::uint64_t i = 0; i < count; ++i) {
    std::fprintf(file_.get(), "%" PRId64 ",%s,-1,%" PRIu64 ",0,0,lost\n", at_us, stream.c_str(),
                 first_seq + i);
  }
}

}  // namespace bondcast::receiver
