// SPDX-License-Identifier: MPL-2.0
// One owner for every FFmpeg handle the sender's inputs use (STYLE.md rule 6):
// std::unique_ptr with a named deleter per handle type.
#pragma once

#include <memory>
#include <string>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
#include <libavutil/frame.h>
#include <libavutil/mem.h>
}

namespace bondcast::sender::av {

// A demuxer opened with avformat_open_input.
struct InputFormatDeleter {
  void operator()(AVFormatContext* ctx) const { avformat_close_input(&ctx); }
};
// A muxer from avformat_alloc_output_context2 whose pb is owned elsewhere (custom I/O).
struct OutputFormatDeleter {
  void operator()(AVFormatContext* ctx) const { avformat_free_context(ctx); }
};
// An AVIOContext opened with avio_open2.
struct OpenedIoDeleter {
  void operator()(AVIOContext* io) const { avio_closep(&io); }
};
// An AVIOContext from avio_alloc_context with an av_malloc'ed buffer (custom I/O).
struct CustomIoDeleter {
  void operator()(AVIOContext* io) const {
    if (io != nullptr) {
      av_freep(&io->buffer);
    }
    avio_context_free(&io);
  }
};
struct CodecContextDeleter {
  void operator()(AVCodecContext* ctx) const { avcodec_free_context(&ctx); }
};
struct FrameDeleter {
  void operator()(AVFrame* frame) const { av_frame_free(&frame); }
};
struct PacketDeleter {
  void operator()(AVPacket* packet) const { av_packet_free(&packet); }
};

using InputFormatPtr = std::unique_ptr<AVFormatContext, InputFormatDeleter>;
using OutputFormatPtr = std::unique_ptr<AVFormatContext, OutputFormatDeleter>;
using OpenedIoPtr = std::unique_ptr<AVIOContext, OpenedIoDeleter>;
using CustomIoPtr = std::unique_ptr<AVIOContext, CustomIoDeleter>;
using CodecContextPtr = std::unique_ptr<AVCodecContext, CodecContextDeleter>;
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;
using PacketPtr = std::unique_ptr<AVPacket, PacketDeleter>;

// av_err2str for C++ (the macro uses a compound literal).
inline std::string errorString(int errnum) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(errnum, buf, sizeof(buf));
  return buf;
}

}  // namespace bondcast::sender::av
