// SPDX-License-Identifier: MPL-2.0
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
// As `ffmpeg -muxdelay`: how far the remuxed TS's PCR runs ahead of decode times.
constexpr int kRemuxMaxDelayUs = 700'000;

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
  // The next chunk of raw bytes; empty at the end of the input or when interrupted by stop().
  Result<std::vector<std::uint8_t>> readChunk() {
    auto bytes = readBytes(io_.get(), options_.chunk_packets * kTsPacketBytes);
    if (bytes) {
      return bytes;
    }
    if (stop_.stopped()) {
      return std::vector<std::uint8_t>{};
    }
    return Error{"reading '" + options_.url + "': " + bytes.error().message};
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

// Anything else libavformat reads, remuxed to MPEG-TS (stream copy) and paced by the PCR
// the mpegts muxer derives from the packets' DTS. A loop shifts the timestamps of every
// pass past the end of the previous one, so the output and its pacing run on smoothly.
class RemuxInput final : public Input {
 public:
  explicit RemuxInput(const AvInputOptions& options)
      : options_(options), pacer_(ts::TsPacer::Options{options.fallback_bitrate_bps}) {}

  Status open() {
    packet_.reset(av_packet_alloc());
    if (!packet_) {
      return Error{"cannot allocate a packet"};
    }
    if (auto ok = openDemuxer(); !ok) {
      return ok;
    }
    return openMuxer();
  }

  Result<InputChunk> read() override {
    while (!ended_ && !stop_.stopped()) {
      if (muxed_.wholePackets() >= options_.chunk_packets ||
          (trailer_written_ && muxed_.wholePackets() > 0)) {
        return pacedChunk(muxed_.takePackets(options_.chunk_packets), pacer_, stop_);
      }
      if (trailer_written_) {
        ended_ = true;
        spdlog::info("{}: end of input", describe());
        break;
      }
      if (auto ok = remuxOnePacket(); !ok) {
        return ok.error();
      }
    }
    return endOfInput();
  }

  void stop() override { stop_.stop(); }

  std::string describe() const override {
    return "file '" + options_.url + "' (" + format_name_ + " remuxed to MPEG-TS" +
           (options_.loop ? ", looped)" : ")");
  }

 private:
  Status openDemuxer() {
    AVFormatContext* raw = avformat_alloc_context();
    if (raw == nullptr) {
      return Error{"cannot allocate a demuxer"};
    }
    raw->interrupt_callback = interruptFor(stop_);
    if (const int err = avformat_open_input(&raw, options_.url.c_str(), nullptr, nullptr);
        err < 0) {
      return avError("cannot open", options_.url, err);  // raw was freed
    }
    demuxer_.reset(raw);
    if (const int err = avformat_find_stream_info(raw, nullptr); err < 0) {
      return avError("cannot read the streams of", options_.url, err);
    }
    format_name_ = raw->iformat->name;
    return okStatus();
  }

  Status openMuxer() {
    if (auto ok = muxed_.init(); !ok) {
      return ok;
    }
    AVFormatContext* raw = nullptr;
    if (const int err = avformat_alloc_output_context2(&raw, nullptr, "mpegts", nullptr); err < 0) {
      return Error{"cannot create the mpegts muxer: " + av::errorString(err)};
    }
    muxer_.reset(raw);
    muxer_->pb = muxed_.io();
    muxer_->flags |= AVFMT_FLAG_CUSTOM_IO;
    muxer_->max_delay = kRemuxMaxDelayUs;
    stream_map_.assign(demuxer_->nb_streams, -1);
    for (unsigned i = 0; i < demuxer_->nb_streams; ++i) {
      const AVStream* in = demuxer_->streams[i];
      const AVMediaType type = in->codecpar->codec_type;
      if ((type != AVMEDIA_TYPE_VIDEO && type != AVMEDIA_TYPE_AUDIO &&
           type != AVMEDIA_TYPE_SUBTITLE) ||
          (in->disposition & AV_DISPOSITION_ATTACHED_PIC) != 0) {
        continue;
      }
      AVStream* out = avformat_new_stream(muxer_.get(), nullptr);
      if (out == nullptr || avcodec_parameters_copy(out->codecpar, in->codecpar) < 0) {
        return Error{"cannot add a stream to the mpegts muxer"};
      }
      out->codecpar->codec_tag = 0;
      out->time_base = in->time_base;
      stream_map_[i] = out->index;
    }
    if (muxer_->nb_streams == 0) {
      return Error{"'" + options_.url + "' has no audio, video or subtitle stream to send"};
    }
    if (const int err = avformat_write_header(muxer_.get(), nullptr); err < 0) {
      return avError("cannot remux to MPEG-TS", options_.url, err);
    }
    return okStatus();
  }

  // Reads one packet and hands it to the muxer; at the end, loops or writes the trailer.
  Status remuxOnePacket() {
    const int err = av_read_frame(demuxer_.get(), packet_.get());
    if (err == AVERROR_EOF) {
      return endOfPass();
    }
    if (err < 0) {
      if (stop_.stopped()) {
        return okStatus();
      }
      return avError("reading", options_.url, err);
    }
    const int in_index = packet_->stream_index;
    const int out_index =
        in_index < static_cast<int>(stream_map_.size()) ? stream_map_[in_index] : -1;
    if (out_index < 0) {
      av_packet_unref(packet_.get());
      return okStatus();
    }
    ++packets_this_pass_;
    const AVStream* in = demuxer_->streams[in_index];
    const AVStream* out = muxer_->streams[out_index];
    av_packet_rescale_ts(packet_.get(), in->time_base, out->time_base);
    const std::int64_t first_ts = packet_->dts != AV_NOPTS_VALUE ? packet_->dts : packet_->pts;
    if (first_ts != AV_NOPTS_VALUE) {
      pass_min_us_ = std::min(pass_min_us_, av_rescale_q(first_ts, out->time_base, AV_TIME_BASE_Q));
    }
    const std::int64_t offset = av_rescale_q(loop_offset_us_, AV_TIME_BASE_Q, out->time_base);
    if (packet_->pts != AV_NOPTS_VALUE) {
      packet_->pts += offset;
    }
    if (packet_->dts != AV_NOPTS_VALUE) {
      packet_->dts += offset;
    }
    if (first_ts != AV_NOPTS_VALUE) {
      const std::int64_t end = first_ts + offset + std::max<std::int64_t>(packet_->duration, 0);
      max_end_us_ = std::max(max_end_us_, av_rescale_q(end, out->time_base, AV_TIME_BASE_Q));
    }
    packet_->stream_index = out_index;
    packet_->pos = -1;
    if (const int werr = av_interleaved_write_frame(muxer_.get(), packet_.get()); werr < 0) {
      // A packet the muxer refuses (e.g. a non-monotonic DTS in a damaged file) is
      // dropped; the stream goes on.
      if (dropped_packets_++ % 100 == 0) {
        spdlog::warn("{}: dropped a packet the muxer refused ({} so far): {}", describe(),
                     dropped_packets_, av::errorString(werr));
      }
    }
    avio_flush(muxer_->pb);
    return okStatus();
  }

  Status endOfPass() {
    if (options_.loop && packets_this_pass_ > 0 && !stop_.stopped()) {
      spdlog::info("{}: restarting at the start", describe());
      const std::int64_t start = demuxer_->start_time != AV_NOPTS_VALUE ? demuxer_->start_time : 0;
      if (av_seek_frame(demuxer_.get(), -1, start, AVSEEK_FLAG_BACKWARD) < 0) {
        demuxer_.reset();
        if (auto ok = openDemuxer(); !ok) {
          return ok;
        }
      }
      loop_offset_us_ = max_end_us_ - pass_min_us_;
      packets_this_pass_ = 0;
      return okStatus();
    }
    if (const int err = av_write_trailer(muxer_.get()); err < 0) {
      return avError("finishing the remux of", options_.url, err);
    }
    avio_flush(muxer_->pb);
    trailer_written_ = true;
    return okStatus();
  }

  AvInputOptions options_;
  StopSignal stop_;
  ts::TsPacer pacer_;
  av::InputFormatPtr demuxer_;
  MuxedBytes muxed_;
  av::OutputFormatPtr muxer_;
  av::PacketPtr packet_;
  std::vector<int> stream_map_;  // demuxer stream index -> muxer stream index, -1: dropped
  std::string format_name_;
  std::int64_t loop_offset_us_ = 0;       // added to every timestamp of this pass
  std::int64_t pass_min_us_ = INT64_MAX;  // earliest timestamp of a pass (input timeline)
  std::int64_t max_end_us_ = INT64_MIN;   // latest end so far (output timeline)
  std::uint64_t packets_this_pass_ = 0;
  std::uint64_t dropped_packets_ = 0;
  bool trailer_written_ = false;
  bool ended_ = false;
};

}  // namespace

// ---------------------------------------------------------------------------------------

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
  auto input = std::make_unique<RemuxInput>(options);
  if (auto opened = input->open(); !opened) {
    return opened.error();
  }
  spdlog::info("input: {}", input->describe());
  return std::unique_ptr<Input>(std::move(input));
}

Result<std::unique_ptr<Input>> openAvInput(const std::string& url, bool loop) {
  return openAvInput(AvInputOptions{.url = url, .loop = loop});
}

}  // namespace bondcast::sender
