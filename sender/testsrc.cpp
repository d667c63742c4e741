// SPDX-License-Identifier: MPL-2.0
#include "sender/testsrc.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <numbers>

#include "common/units.h"
#include "sender/av_handles.h"
#include "sender/av_input.h"

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
}

namespace bondcast::sender {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr int kAudioSampleRate = 48'000;
constexpr double kToneHz = 1000.0;
constexpr float kToneAmplitude = 0.25f;
constexpr std::uint64_t kMinVideoBitrateBps = 100'000;
// How far the muxer may run ahead of the stream's decode times (T-STD delay).
constexpr int kMuxMaxDelayUs = 500'000;
constexpr int kPcrPeriodMs = 20;

// ---- Drawing -----------------------------------------------------------------------------

struct Yuv {
  std::uint8_t y, u, v;
};
// 75% colour bars, BT.601 limited range: white, yellow, cyan, green, magenta, red, blue, black.
constexpr std::array<Yuv, 8> kBars = {{{180, 128, 128},
                                       {162, 44, 142},
                                       {131, 156, 44},
                                       {112, 72, 58},
                                       {84, 184, 198},
                                       {65, 100, 212},
                                       {35, 212, 114},
                                       {16, 128, 128}}};
constexpr std::uint8_t kBlackY = 16;
constexpr std::uint8_t kWhiteY = 235;
constexpr std::uint8_t kNeutralChroma = 128;

void fillRect(Plane p, int x, int y, int w, int h, std::uint8_t value) {
  const int x0 = std::clamp(x, 0, p.width);
  const int x1 = std::clamp(x + w, 0, p.width);
  const int y0 = std::clamp(y, 0, p.height);
  const int y1 = std::clamp(y + h, 0, p.height);
  for (int row = y0; row < y1; ++row) {
    std::fill(p.data + row * p.linesize + x0, p.data + row * p.linesize + x1, value);
  }
}

// Bars scroll left by `shift` pixels; `scale` is 1 for luma, 2 for half-width chroma.
void drawBars(Plane p, int rows, int shift, int scale, std::uint8_t Yuv::*component) {
  const int full_width = p.width * scale;
  const int bar_width = std::max(1, full_width / static_cast<int>(kBars.size()));
  std::uint8_t* row0 = p.data;
  for (int x = 0; x < p.width; ++x) {
    const int bar = ((x * scale + shift) / bar_width) % static_cast<int>(kBars.size());
    row0[x] = kBars[static_cast<std::size_t>(bar)].*component;
  }
  for (int row = 1; row < rows; ++row) {
    std::copy(row0, row0 + p.width, p.data + row * p.linesize);
  }
}

// A seven-segment digit with its top-left corner at (x, y), `h` high, `h / 2` wide.
void drawDigit(Plane y_plane, int x, int y, int h, int digit) {
  const int w = h / 2;
  const int t = std::max(2, h / 10);  // stroke
  const int half = h / 2;
  const std::uint8_t mask = sevenSegmentMask(digit);
  struct Rect {
    int x, y, w, h;
  };
  const std::array<Rect, 7> segments = {{
      {x, y, w, t},                    // a: top
      {x + w - t, y, t, half},         // b: top right
      {x + w - t, y + half, t, half},  // c: bottom right
      {x, y + h - t, w, t},            // d: bottom
      {x, y + half, t, half},          // e: bottom left
      {x, y, t, half},                 // f: top left
      {x, y + half - t / 2, w, t},     // g: middle
  }};
  for (std::size_t s = 0; s < segments.size(); ++s) {
    if ((mask >> s) & 1) {
      const Rect& r = segments[s];
      fillRect(y_plane, r.x, r.y, r.w, r.h, kWhiteY);
    }
  }
}

// "hh:mm:ss.ff" in seven-segment digits, centred in the band [band_y, band_y + band_h).
void drawClock(Plane y_plane, int band_y, int band_h, const std::string& text) {
  const int h = band_h * 2 / 3;
  const int digit_w = h / 2;
  const int gap = std::max(2, h / 10);
  const int sep_w = h / 4;
  int total = 0;
  for (char c : text) {
    total += (c >= '0' && c <= '9' ? digit_w : sep_w) + gap;
  }
  int x = (y_plane.width - total) / 2;
  const int y = band_y + (band_h - h) / 2;
  const int dot = std::max(2, h / 10);
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      drawDigit(y_plane, x, y, h, c - '0');
      x += digit_w + gap;
      continue;
    }
    const int dot_x = x + (sep_w - dot) / 2;
    if (c == ':') {
      fillRect(y_plane, dot_x, y + h / 3 - dot / 2, dot, dot, kWhiteY);
      fillRect(y_plane, dot_x, y + 2 * h / 3 - dot / 2, dot, dot, kWhiteY);
    } else {
      fillRect(y_plane, dot_x, y + h - dot, dot, dot, kWhiteY);
    }
    x += sep_w + gap;
  }
}

// ---- The source --------------------------------------------------------------------------

InputChunk endOfInput() {
  InputChunk chunk;
  chunk.end = true;
  return chunk;
}

class TestSource final : public Input {
 public:
  explicit TestSource(const TestSourceOptions& options) : options_(options) {}

  Status open();

  Result<InputChunk> read() override;
  void stop() override { stop_.stop(); }
  std::string describe() const override {
    return "testsrc " + std::to_string(options_.width) + "x" + std::to_string(options_.height) +
           " " + std::to_string(options_.fps) + " fps " + video_encoder_name_ + " + aac, " +
           formatBitrate(static_cast<double>(options_.bitrate_bps));
  }

 private:
  Status openVideoEncoder();
  Status openAudioEncoder();
  Status openMuxer();
  Status produceFrame();
  Status encode(AVCodecContext* encoder, AVFrame* frame, AVStream* stream);

  TestSourceOptions options_;
  StopSignal stop_;
  MuxedBytes muxed_;
  av::CodecContextPtr video_;
  av::CodecContextPtr audio_;
  av::OutputFormatPtr mux_;
  av::FramePtr picture_;
  av::FramePtr samples_;
  av::PacketPtr packet_;
  AVStream* video_stream_ = nullptr;
  AVStream* audio_stream_ = nullptr;
  std::string video_encoder_name_;
  bool started_ = false;
  SteadyClock::time_point start_{};
  std::int64_t frame_index_ = 0;
  std::int64_t audio_samples_ = 0;
  std::int64_t late_frames_ = 0;
};

Status TestSource::openVideoEncoder() {
  std::vector<const AVCodec*> candidates;
  if (!options_.video_encoder.empty()) {
    const AVCodec* codec = avcodec_find_encoder_by_name(options_.video_encoder.c_str());
    if (codec == nullptr) {
      return Error{"testsrc: no video encoder named '" + options_.video_encoder + "'"};
    }
    candidates.push_back(codec);
  } else {
    if (const AVCodec* x264 = avcodec_find_encoder_by_name("libx264")) {
      candidates.push_back(x264);
    }
    void* it = nullptr;
    while (const AVCodec* codec = av_codec_iterate(&it)) {
      if (av_codec_is_encoder(codec) && codec->id == AV_CODEC_ID_H264 &&
          std::find(candidates.begin(), candidates.end(), codec) == candidates.end()) {
        candidates.push_back(codec);
      }
    }
  }
  const auto video_bps = static_cast<std::int64_t>(testSourceVideoBitrateBps(options_));
  std::string failures;
  for (const AVCodec* codec : candidates) {
    av::CodecContextPtr ctx(avcodec_alloc_context3(codec));
    if (!ctx) {
      return Error{"testsrc: cannot allocate a video encoder"};
    }
    ctx->width = options_.width;
    ctx->height = options_.height;
    ctx->pix_fmt = AV_PIX_FMT_YUV420P;
    ctx->time_base = AVRational{1, options_.fps};
    ctx->framerate = AVRational{options_.fps, 1};
    ctx->gop_size = options_.keyframe_interval_frames;
    ctx->max_b_frames = 0;
    // Constant bitrate: the buffer (0.4 s) bounds how bursty the frames may be.
    ctx->bit_rate = video_bps;
    ctx->rc_min_rate = video_bps;
    ctx->rc_max_rate = video_bps;
    ctx->rc_buffer_size = static_cast<int>(video_bps * 2 / 5);
    ctx->thread_count = 1;
    if (std::string(codec->name) == "libx264") {
      av_opt_set(ctx->priv_data, "preset", "ultrafast", 0);
      av_opt_set(ctx->priv_data, "tune", "zerolatency", 0);
      // Filler NAL units keep the stream at the bitrate even for a simple picture.
      av_opt_set(ctx->priv_data, "x264-params", "nal-hrd=cbr:force-cfr=1", 0);
    }
    const int err = avcodec_open2(ctx.get(), codec, nullptr);
    if (err < 0) {
      failures +=
          std::string(failures.empty() ? "" : ", ") + codec->name + ": " + av::errorString(err);
      continue;
    }
    video_encoder_name_ = codec->name;
    video_ = std::move(ctx);
    return okStatus();
  }
  return Error{"testsrc: no H.264 encoder could be opened" +
               (failures.empty() ? std::string(" (none built in)") : " (" + failures + ")")};
}

Status TestSource::openAudioEncoder() {
  const AVCodec* codec = avcodec_find_encoder_by_name("aac");
  if (codec == nullptr) {
    return Error{"testsrc: FFmpeg has no 'aac' encoder"};
  }
  av::CodecContextPtr ctx(avcodec_alloc_context3(codec));
  if (!ctx) {
    return Error{"testsrc: cannot allocate the audio encoder"};
  }
  ctx->sample_fmt = AV_SAMPLE_FMT_FLTP;
  ctx->sample_rate = kAudioSampleRate;
  av_channel_layout_default(&ctx->ch_layout, 2);
  ctx->bit_rate = static_cast<std::int64_t>(options_.audio_bitrate_bps);
  ctx->time_base = AVRational{1, kAudioSampleRate};
  if (const int err = avcodec_open2(ctx.get(), codec, nullptr); err < 0) {
    return Error{"testsrc: cannot open the aac encoder: " + av::errorString(err)};
  }
  audio_ = std::move(ctx);
  return okStatus();
}

Status TestSource::openMuxer() {
  if (auto ok = muxed_.init(); !ok) {
    return ok;
  }
  AVFormatContext* raw = nullptr;
  if (const int err = avformat_alloc_output_context2(&raw, nullptr, "mpegts", nullptr); err < 0) {
    return Error{"testsrc: cannot create the mpegts muxer: " + av::errorString(err)};
  }
  mux_.reset(raw);
  mux_->pb = muxed_.io();
  mux_->flags |= AVFMT_FLAG_CUSTOM_IO | AVFMT_FLAG_FLUSH_PACKETS;
  mux_->max_delay = kMuxMaxDelayUs;
  video_stream_ = avformat_new_stream(mux_.get(), nullptr);
  audio_stream_ = avformat_new_stream(mux_.get(), nullptr);
  if (video_stream_ == nullptr || audio_stream_ == nullptr) {
    return Error{"testsrc: cannot add the muxer's streams"};
  }
  avcodec_parameters_from_context(video_stream_->codecpar, video_.get());
  avcodec_parameters_from_context(audio_stream_->codecpar, audio_.get());
  video_stream_->time_base = video_->time_base;
  audio_stream_->time_base = audio_->time_base;

  AVDictionary* opts = nullptr;
  av_dict_set_int(&opts, "muxrate", static_cast<std::int64_t>(options_.bitrate_bps), 0);
  av_dict_set_int(&opts, "pcr_period", kPcrPeriodMs, 0);
  const int err = avformat_write_header(mux_.get(), &opts);
  av_dict_free(&opts);
  if (err < 0) {
    return Error{"testsrc: cannot start the mpegts muxer: " + av::errorString(err)};
  }
  return okStatus();
}

Status TestSource::open() {
  if (options_.width <= 0 || options_.height <= 0 || options_.width % 2 != 0 ||
      options_.height % 2 != 0 || options_.fps <= 0) {
    return Error{"testsrc: picture size must be even and positive, fps positive"};
  }
  if (testSourceVideoBitrateBps(options_) < kMinVideoBitrateBps) {
    return Error{"testsrc: bitrate " + formatBitrate(static_cast<double>(options_.bitrate_bps)) +
                 " is too low; it must leave at least " +
                 formatBitrate(static_cast<double>(kMinVideoBitrateBps)) +
                 " for video beside audio and TS overhead"};
  }
  for (auto step :
       {&TestSource::openVideoEncoder, &TestSource::openAudioEncoder, &TestSource::openMuxer}) {
    if (auto ok = (this->*step)(); !ok) {
      return ok;
    }
  }
  picture_.reset(av_frame_alloc());
  samples_.reset(av_frame_alloc());
  packet_.reset(av_packet_alloc());
  if (!picture_ || !samples_ || !packet_) {
    return Error{"testsrc: cannot allocate frames"};
  }
  picture_->format = AV_PIX_FMT_YUV420P;
  picture_->width = options_.width;
  picture_->height = options_.height;
  samples_->format = AV_SAMPLE_FMT_FLTP;
  samples_->sample_rate = kAudioSampleRate;
  samples_->nb_samples = audio_->frame_size > 0 ? audio_->frame_size : 1024;
  av_channel_layout_copy(&samples_->ch_layout, &audio_->ch_layout);
  if (av_frame_get_buffer(picture_.get(), 0) < 0 || av_frame_get_buffer(samples_.get(), 0) < 0) {
    return Error{"testsrc: cannot allocate frame buffers"};
  }
  return okStatus();
}

Status TestSource::encode(AVCodecContext* encoder, AVFrame* frame, AVStream* stream) {
  int err = avcodec_send_frame(encoder, frame);
  if (err < 0) {
    return Error{"testsrc: encoding failed: " + av::errorString(err)};
  }
  while ((err = avcodec_receive_packet(encoder, packet_.get())) >= 0) {
    av_packet_rescale_ts(packet_.get(), encoder->time_base, stream->time_base);
    packet_->stream_index = stream->index;
    if (const int werr = av_interleaved_write_frame(mux_.get(), packet_.get()); werr < 0) {
      return Error{"testsrc: muxing failed: " + av::errorString(werr)};
    }
  }
  if (err != AVERROR(EAGAIN) && err != AVERROR_EOF) {
    return Error{"testsrc: encoding failed: " + av::errorString(err)};
  }
  return okStatus();
}

// Audio up to the end of frame N, then picture N; the muxed bytes go to muxed_.
Status TestSource::produceFrame() {
  const std::int64_t audio_until = (frame_index_ + 1) * kAudioSampleRate / options_.fps;
  while (audio_samples_ + samples_->nb_samples <= audio_until) {
    if (av_frame_make_writable(samples_.get()) < 0) {
      return Error{"testsrc: cannot write the audio frame"};
    }
    for (int i = 0; i < samples_->nb_samples; ++i) {
      const double t = static_cast<double>(audio_samples_ + i) / kAudioSampleRate;
      const float s =
          kToneAmplitude * static_cast<float>(std::sin(2 * std::numbers::pi * kToneHz * t));
      for (int ch = 0; ch < samples_->ch_layout.nb_channels; ++ch) {
        reinterpret_cast<float*>(samples_->data[ch])[i] = s;
      }
    }
    samples_->pts = audio_samples_;
    audio_samples_ += samples_->nb_samples;
    if (auto ok = encode(audio_.get(), samples_.get(), audio_stream_); !ok) {
      return ok;
    }
  }
  if (av_frame_make_writable(picture_.get()) < 0) {
    return Error{"testsrc: cannot write the picture"};
  }
  auto plane = [&](int i, int w, int h) {
    return Plane{picture_->data[i], picture_->linesize[i], w, h};
  };
  drawTestPattern(plane(0, options_.width, options_.height),
                  plane(1, options_.width / 2, options_.height / 2),
                  plane(2, options_.width / 2, options_.height / 2), frame_index_, options_.fps);
  picture_->pts = frame_index_;
  if (auto ok = encode(video_.get(), picture_.get(), video_stream_); !ok) {
    return ok;
  }
  avio_flush(mux_->pb);
  ++frame_index_;
  return okStatus();
}

Result<InputChunk> TestSource::read() {
  while (!stop_.stopped()) {
    if (muxed_.wholePackets() > 0) {
      InputChunk chunk;
      chunk.bytes = muxed_.takePackets(muxed_.wholePackets());
      return chunk;
    }
    const auto now = SteadyClock::now();
    if (!started_) {
      started_ = true;
      start_ = now;
    }
    const auto due =
        start_ + std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(
                     static_cast<double>(frame_index_) / options_.fps));
    if (now - due > std::chrono::milliseconds(500) && late_frames_++ % 250 == 0) {
      spdlog::warn("{}: encoding falls behind real time by {} ms at frame {}", describe(),
                   std::chrono::duration_cast<std::chrono::milliseconds>(now - due).count(),
                   frame_index_);
    }
    if (!stop_.waitUntil(due)) {
      break;
    }
    if (auto ok = produceFrame(); !ok) {
      return ok.error();
    }
  }
  return endOfInput();
}

}  // namespace

std::uint64_t testSourceVideoBitrateBps(const TestSourceOptions& options) {
  const auto for_streams =
      static_cast<std::uint64_t>(static_cast<double>(options.bitrate_bps) * 0.95);
  return for_streams > options.audio_bitrate_bps ? for_streams - options.audio_bitrate_bps : 0;
}

std::string testClockText(std::int64_t frame_index, int fps) {
  const std::int64_t total_s = frame_index / fps;
  const auto frames = static_cast<int>(frame_index % fps);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%02lld:%02d:%02d.%02d",
                static_cast<long long>((total_s / 3600) % 100), static_cast<int>(total_s / 60 % 60),
                static_cast<int>(total_s % 60), frames);
  return buf;
}

std::uint8_t sevenSegmentMask(int digit) {
  static constexpr std::array<std::uint8_t, 10> kMasks = {0x3F, 0x06, 0x5B, 0x4F, 0x66,
                                                          0x6D, 0x7D, 0x07, 0x7F, 0x6F};
  return digit >= 0 && digit <= 9 ? kMasks[static_cast<std::size_t>(digit)] : 0;
}

void drawTestPattern(Plane y, Plane u, Plane v, std::int64_t frame_index, int fps) {
  // Top 60%: bars scrolling left one screen width every 8 s; bottom 40%: the clock.
  const int bars_rows = y.height * 3 / 5;
  const int shift = static_cast<int>((frame_index * y.width / (8 * fps)) % y.width);
  drawBars(y, bars_rows, shift, 1, &Yuv::y);
  drawBars(u, bars_rows / 2, shift, 2, &Yuv::u);
  drawBars(v, bars_rows / 2, shift, 2, &Yuv::v);
  fillRect(y, 0, bars_rows, y.width, y.height - bars_rows, kBlackY);
  fillRect(u, 0, bars_rows / 2, u.width, u.height - bars_rows / 2, kNeutralChroma);
  fillRect(v, 0, bars_rows / 2, v.width, v.height - bars_rows / 2, kNeutralChroma);
  drawClock(y, bars_rows, y.height - bars_rows, testClockText(frame_index, fps));
}

Result<std::unique_ptr<Input>> openTestSource(const TestSourceOptions& options) {
  auto source = std::make_unique<TestSource>(options);
  if (auto ok = source->open(); !ok) {
    return ok.error();
  }
  spdlog::info("input: {}", source->describe());
  return std::unique_ptr<Input>(std::move(source));
}

Result<std::unique_ptr<Input>> openTestSource(std::uint64_t bitrate_bps) {
  TestSourceOptions options;
  options.bitrate_bps = bitrate_bps;
  return openTestSource(options);
}

}  // namespace bondcast::sender
