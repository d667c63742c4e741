#include "sender/av_input.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <span>
#include <type_traits>

#include "sender/ts.h"

extern "C" {
#include <libavutil/mathematics.h>
}

namespace bondcast::sender {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr std::size_t kSniffBytes = 3 * kTsPacketBytes;
constexpr int kMuxIoBufferBytes = 64 * 1024;

// libavformat 61 made the write callback's buffer const.
using WriteBuffer =
    std::conditional_t<(LIBAVFORMAT_VERSION_MAJOR >= 61), const std::uint8_t, std::uint8_t>;

int appendMuxedBytes(void* opaque, WriteBuffer* buf, int size) {
  auto* bytes = static_cast<std::vector<std::uint8_t>*>(opaque);
  bytes->insert(bytes->end(), buf, buf + size);
  return size;
}

Error avError(const std::string& what, const std::string& url, int err) {
  return Error{what + " '" + url + "': " + av::errorString(err)};
}

AVIOInterruptCB interruptFor(StopSignal& stop) {
  return AVIOInterruptCB{&StopSignal::interruptCallback, &stop};
}

InputChunk endOfInput() {
  InputChunk chunk;
  chunk.end = true;
  return chunk;
}

// Reads up to `max_bytes` (fewer only at the end of input). Empty at the end.
Result<std::vector<std::uint8_t>> readBytes(AVIOContext* io, std::size_t max_bytes) {
  std::vector<std::uint8_t> bytes(max_bytes);
  const int n = avio_read(io, bytes.data(), static_cast<int>(max_bytes));
  if (n == AVERROR_EOF || n == 0) {
    bytes.clear();
    return bytes;
  }
  if (n < 0) {
    return Error{av::errorString(n)};
  }
  bytes.resize(static_cast<std::size_t>(n));
  return bytes;
}

// Opens `url` for reading raw bytes.
Result<av::OpenedIoPtr> openIo(const std::string& url, StopSignal& stop) {
  AVIOContext* raw = nullptr;
  const AVIOInterruptCB cb = interruptFor(stop);
  const int err = avio_open2(&raw, url.c_str(), AVIO_FLAG_READ, &cb, nullptr);
  if (err < 0) {
    return avError("cannot open", url, err);
  }
  return av::OpenedIoPtr(raw);
}

// Releases chunks of TS packets at the times a TsPacer gives them.
Result<InputChunk> pacedChunk(std::vector<std::uint8_t> bytes, ts::TsPacer& pacer,
                              StopSignal& stop) {
  auto due = SteadyClock::now();
  const auto now = due;
  for (std::size_t off = 0; off < bytes.size(); off += kTsPacketBytes) {
    const std::size_t n = std::min(kTsPacketBytes, bytes.size() - off);
    due = pacer.onPacket(std::span<const std::uint8_t>(bytes.data() + off, n), now);
  }
  if (!stop.waitUntil(due)) {
    return endOfInput();
  }
  InputChunk chunk;
  chunk.bytes = std::move(bytes);
  return chunk;
}

// An MPEG-TS file or URL, read as raw bytes and paced by its PCR.
class RawTsInput final : public Input {
 public:
  explicit RawTsInput(const AvInputOptions& options)
      : options_(options), pacer_(ts::TsPacer::Options{options.fallback_bitrate_bps}) {}

  Status open() {
    auto io = openIo(options_.url, stop_);
    if (!io) {
      return io.error();
    }
    io_ = std::move(io).value();
    return okStatus();
  }

  Result<InputChunk> read() override {
    if (ended_ || stop_.stopped()) {
      return endOfInput();
    }
    auto bytes = readChunk();
    if (!bytes) {
      return bytes.error();
    }
    if (bytes->empty() && options_.loop && !stop_.stopped() && read_since_start_ > 0) {
      if (auto restarted = restart(); !restarted) {
        return restarted.error();
      }
      bytes = readChunk();
      if (!bytes) {
        return bytes.error();
      }
    }
    if (bytes->empty() || stop_.stopped()) {
      ended_ = true;
      spdlog::info("{}: end of input", describe());
      return endOfInput();
    }
    read_since_start_ += bytes->size();
    return pacedChunk(std::move(bytes).value(), pacer_, stop_);
  }

  void stop() override { stop_.stop(); }

  std::string describe() const override {
    return "file '" + options_.url + "' (MPEG-TS, paced by PCR" +
           (options_.loop ? ", looped)" : ")");
  }

 private:
  Result<std::vector<std::uint8_t>> readChunk() {
    auto bytes = readBytes(io_.get(), options_.chunk_packets * kTsPacketBytes);
    if (!bytes && !stop_.stopped()) {
      return Error{"reading '" + options_.url + "': " + bytes.error().message};
    }
    return bytes ? std::move(bytes)
                 : Result<std::vector<std::uint8_t>>(std::vector<std::uint8_t>{});
  }

  // Back to the start for a loop: seek, or open again if the URL cannot seek.
  Status restart() {
    spdlog::info("{}: restarting at the start", describe());
    if (avio_seek(io_.get(), 0, SEEK_SET) < 0) {
      io_.reset();
      if (auto opened = open(); !opened) {
        return opened;
      }
    }
    pacer_.restart();
    read_since_start_ = 0;
    return okStatus();
  }

  AvInputOptions options_;
  StopSignal stop_;
  av::OpenedIoPtr io_;
  ts::TsPacer pacer_;
  std::uint64_t read_since_start_ = 0;
  bool ended_ = false;
};

}  // namespace

// ---------------------------------------------------------------------------------------

void StopSignal::stop() {
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  cv_.notify_all();
}

bool StopSignal::waitUntil(std::chrono::steady_clock::time_point due) {
  std::unique_lock lock(mutex_);
  cv_.wait_until(lock, due, [this] { return stopped_.load(); });
  return !stopped_.load();
}

int StopSignal::interruptCallback(void* opaque) {
  return static_cast<const StopSignal*>(opaque)->stopped() ? 1 : 0;
}

Status MuxedBytes::init() {
  auto* buffer = static_cast<std::uint8_t*>(av_malloc(kMuxIoBufferBytes));
  if (buffer == nullptr) {
    return Error{"cannot allocate the muxer's output buffer"};
  }
  AVIOContext* io = avio_alloc_context(buffer, kMuxIoBufferBytes, /*write_flag=*/1, &bytes_,
                                       nullptr, &appendMuxedBytes, nullptr);
  if (io == nullptr) {
    av_free(buffer);
    return Error{"cannot allocate the muxer's output context"};
  }
  io_.reset(io);
  return okStatus();
}

std::vector<std::uint8_t> MuxedBytes::takePackets(std::size_t max_packets) {
  const std::size_t n = std::min(wholePackets(), max_packets) * kTsPacketBytes;
  std::vector<std::uint8_t> out(bytes_.begin(), bytes_.begin() + static_cast<std::ptrdiff_t>(n));
  bytes_.erase(bytes_.begin(), bytes_.begin() + static_cast<std::ptrdiff_t>(n));
  return out;
}

bool looksLikeRawTs(const std::vector<std::uint8_t>& head) {
  if (head.size() < kTsPacketBytes) {
    return false;
  }
  for (std::size_t off = 0; off + kTsPacketBytes <= head.size(); off += kTsPacketBytes) {
    if (head[off] != ts::kSyncByte) {
      return false;
    }
  }
  return true;
}

Result<std::unique_ptr<Input>> openAvInput(const AvInputOptions& options) {
  StopSignal no_stop;
  auto sniffer = openIo(options.url, no_stop);
  if (!sniffer) {
    return sniffer.error();
  }
  auto head = readBytes(sniffer->get(), kSniffBytes);
  if (!head) {
    return Error{"reading '" + options.url + "': " + head.error().message};
  }
  sniffer->reset();
  if (looksLikeRawTs(*head)) {
    auto input = std::make_unique<RawTsInput>(options);
    if (auto opened = input->open(); !opened) {
      return opened.error();
    }
    spdlog::info("input: {}", input->describe());
    return std::unique_ptr<Input>(std::move(input));
  }
  return Error{"'" + options.url + "' is not MPEG-TS (remuxing other containers: not yet)"};
}

Result<std::unique_ptr<Input>> openAvInput(const std::string& url, bool loop) {
  return openAvInput(AvInputOptions{.url = url, .loop = loop});
}

}  // namespace bondcast::sender
