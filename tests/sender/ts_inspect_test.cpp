// SPDX-License-Identifier: MPL-2.0
// TsInspector tests: TS packets built by hand (PAT, PMT, PES with NAL units), and one
// real file made with the ffmpeg command-line tool.
#include "sender/ts_inspect.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "sender/ts.h"

namespace bondcast::sender {
namespace {

using sched::Importance;
using Bytes = std::vector<std::uint8_t>;
using Kind = TsInspector::Kind;

constexpr std::uint16_t kPmtPid = 0x1000;
constexpr std::uint16_t kVideoPid = 0x100;
constexpr std::uint16_t kAudioPid = 0x101;

// --- building TS by hand --------------------------------------------------------------

std::uint32_t crc32Mpeg(const Bytes& bytes) {
  std::uint32_t crc = 0xFFFFFFFF;
  for (std::uint8_t b : bytes) {
    crc ^= static_cast<std::uint32_t>(b) << 24;
    for (int i = 0; i < 8; ++i)
      crc = (crc & 0x80000000) ? (crc << 1) ^ 0x04C11DB7 : crc << 1;
  }
  return crc;
}

// One 188-byte packet carrying `payload` (at most 184 bytes; less is padded with an
// adaptation field, as muxers do). `random_access` sets the indicator.
Bytes tsPacket(std::uint16_t pid, bool payload_unit_start, const Bytes& payload,
               bool random_access = false, std::uint8_t continuity = 0) {
  EXPECT_LE(payload.size(), 184u);
  Bytes p;
  p.push_back(ts::kSyncByte);
  p.push_back(static_cast<std::uint8_t>((payload_unit_start ? 0x40 : 0) | (pid >> 8)));
  p.push_back(static_cast<std::uint8_t>(pid & 0xFF));
  const bool adaptation = random_access || payload.size() < 184;
  p.push_back(static_cast<std::uint8_t>((adaptation ? 0x30 : 0x10) | (continuity & 0x0F)));
  if (adaptation) {
    const std::size_t af_length = 183 - payload.size();
    EXPECT_TRUE(af_length >= 1 || !random_access) << "no room for the random access flag";
    p.push_back(static_cast<std::uint8_t>(af_length));
    if (af_length >= 1) {
      p.push_back(random_access ? 0x40 : 0x00);
      p.insert(p.end(), af_length - 1, 0xFF);
    }
  }
  p.insert(p.end(), payload.begin(), payload.end());
  EXPECT_EQ(p.size(), ts::kPacketBytes);
  return p;
}

// A PSI section (table id, then the bytes after the section length up to the CRC) in one
// packet: pointer field, section with CRC, 0xFF stuffing.
Bytes psiPacket(std::uint16_t pid, std::uint8_t table_id, const Bytes& body) {
  Bytes section = {table_id, 0, 0};
  const std::size_t length = body.size() + 4;  // + CRC
  section[1] = static_cast<std::uint8_t>(0xB0 | (length >> 8));
  section[2] = static_cast<std::uint8_t>(length & 0xFF);
  section.insert(section.end(), body.begin(), body.end());
  const std::uint32_t crc = crc32Mpeg(section);
  for (int shift = 24; shift >= 0; shift -= 8)
    section.push_back(static_cast<std::uint8_t>(crc >> shift));
  Bytes payload = {0x00};  // pointer field
  payload.insert(payload.end(), section.begin(), section.end());
  payload.resize(184, 0xFF);
  return tsPacket(pid, true, payload);
}

Bytes pat(std::uint16_t pmt_pid = kPmtPid) {
  return psiPacket(0x0000, 0x00,
                   {0x00, 0x01,              // transport stream id
                    0xC1, 0x00, 0x00,        // version 0, current; section 0 of 0
                    0x00, 0x00, 0xE0, 0x10,  // program 0: network PID 0x0010 (not a PMT)
                    0x00, 0x01, static_cast<std::uint8_t>(0xE0 | (pmt_pid >> 8)),
                    static_cast<std::uint8_t>(pmt_pid & 0xFF)});
}

struct Es {
  std::uint8_t stream_type;
  std::uint16_t pid;
  Bytes descriptors;
};

Bytes pmt(const std::vector<Es>& streams, const Bytes& program_descriptors = {}) {
  Bytes body = {0x00,
                0x01,  // program number
                0xC1,
                0x00,
                0x00,
                static_cast<std::uint8_t>(0xE0 | (kVideoPid >> 8)),
                kVideoPid & 0xFF,  // PCR PID
                static_cast<std::uint8_t>(0xF0 | (program_descriptors.size() >> 8)),
                static_cast<std::uint8_t>(program_descriptors.size() & 0xFF)};
  body.insert(body.end(), program_descriptors.begin(), program_descriptors.end());
  for (const Es& es : streams) {
    body.push_back(es.stream_type);
    body.push_back(static_cast<std::uint8_t>(0xE0 | (es.pid >> 8)));
    body.push_back(static_cast<std::uint8_t>(es.pid & 0xFF));
    body.push_back(static_cast<std::uint8_t>(0xF0 | (es.descriptors.size() >> 8)));
    body.push_back(static_cast<std::uint8_t>(es.descriptors.size() & 0xFF));
    body.insert(body.end(), es.descriptors.begin(), es.descriptors.end());
  }
  return psiPacket(kPmtPid, 0x02, body);
}

// The H.264 + AAC program most encoders write.
Bytes h264AacPmt() {
  return pmt({{0x1B, kVideoPid, {}}, {0x0F, kAudioPid, {}}});
}

// A PES header (stream id, PTS only) followed by `es` bytes.
Bytes pes(std::uint8_t stream_id, const Bytes& es) {
  Bytes b = {0x00, 0x00, 0x01, stream_id, 0x00, 0x00,  // length 0: unbounded (video)
             0x80, 0x80, 0x05,                         // PTS only, 5 header bytes
             0x21, 0x00, 0x01, 0x00,      0x01};       // PTS 0
  b.insert(b.end(), es.begin(), es.end());
  return b;
}

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts)
    out.insert(out.end(), p.begin(), p.end());
  return out;
}

// NAL units with a 4-byte start code and a few bytes of body without start codes.
Bytes nal(std::initializer_list<std::uint8_t> header, std::size_t body_bytes = 8) {
  Bytes b = {0x00, 0x00, 0x00, 0x01};
  for (std::uint8_t h : header)
    b.push_back(h);
  b.resize(b.size() + body_bytes, 0x5A);
  return b;
}
const Bytes kAud = nal({0x09, 0xF0}, 0);
const Bytes kSps = nal({0x67});
const Bytes kPps = nal({0x68});
const Bytes kIdr = nal({0x65});
const Bytes kNonIdr = nal({0x41});
const Bytes kContinuation(184, 0x5A);  // the middle of a slice

// An inspector that has seen the PAT and the H.264 + AAC PMT.
TsInspector h264AacInspector() {
  TsInspector in;
  in.classify(pat());
  in.classify(h264AacPmt());
  return in;
}

// --- tests ----------------------------------------------------------------------------

TEST(TsInspector, LearnsTheElementaryStreamsFromThePatAndPmt) {
  TsInspector in = h264AacInspector();
  const std::map<std::uint16_t, Kind> expected = {{kVideoPid, Kind::kH264},
                                                  {kAudioPid, Kind::kAudio}};
  EXPECT_EQ(in.elementaryStreams(), expected);
}

TEST(TsInspector, MarksPatAndPmtAsParameterSets) {
  TsInspector in;
  EXPECT_EQ(in.classify(pat()), Importance::kParameterSets);
  EXPECT_EQ(in.classify(h264AacPmt()), Importance::kParameterSets);
  // Also a PMT packet before any PAT has named its PID is only a packet of unknown PID.
  TsInspector fresh;
  EXPECT_EQ(fresh.classify(h264AacPmt()), Importance::kNone);
  EXPECT_TRUE(fresh.elementaryStreams().empty());
}

TEST(TsInspector, IgnoresPacketsOfUnknownPidsAndNullPackets) {
  TsInspector in = h264AacInspector();
  EXPECT_EQ(in.classify(tsPacket(0x0011, true, Bytes(184, 0xFF))), Importance::kNone);  // SDT
  EXPECT_EQ(in.classify(tsPacket(ts::kNullPid, false, Bytes(184, 0xFF))), Importance::kNone);
  EXPECT_EQ(in.classify(tsPacket(0x0200, true, pes(0xE0, kIdr))), Importance::kNone);
}

TEST(TsInspector, MarksAudioPackets) {
  TsInspector in = h264AacInspector();
  EXPECT_EQ(in.classify(tsPacket(kAudioPid, true, pes(0xC0, Bytes(40, 0x11)))), Importance::kAudio);
  EXPECT_EQ(in.classify(tsPacket(kAudioPid, false, kContinuation)), Importance::kAudio);
}

TEST(TsInspector, MarksH264SpsAndPpsAsParameterSets) {
  TsInspector in = h264AacInspector();
  EXPECT_EQ(in.classify(tsPacket(kVideoPid, true, pes(0xE0, cat({kAud, kSps, kNonIdr})))),
            Importance::kParameterSets);
  EXPECT_EQ(in.classify(tsPacket(kVideoPid, true, pes(0xE0, cat({kAud, kPps, kNonIdr})))),
            Importance::kParameterSets);
  EXPECT_EQ(in.classify(tsPacket(kVideoPid, true, pes(0xE0, cat({kAud, kNonIdr})))),
            Importance::kNone);
}

// The PES start code 00 00 01 is followed by a stream id, not a NAL header: video stream
// ids 0xE5, 0xE7 and 0xE8 read as NAL types 5 (IDR), 7 (SPS) and 8 (PPS).
TEST(TsInspector, ReadsNalUnitsAfterThePesHeaderNotItsStreamId) {
  TsInspector in = h264AacInspector();
  for (std::uint8_t stream_id : {0xE5, 0xE7, 0xE8}) {
    EXPECT_EQ(in.classify(tsPacket(kVideoPid, true, pes(stream_id, cat({kAud, kNonIdr})))),
              Importance::kNone)
        << "stream id " << int{stream_id};
  }
  EXPECT_EQ(in.classify(tsPacket(kVideoPid, true, pes(0xE5, cat({kAud, kIdr})))),
            Importance::kKeyframe);
}

TEST(TsInspector, MarksAnIdrAccessUnitAsKeyframeUntilTheNextVideoPesStart) {
  TsInspector in = h264AacInspector();
  const Importance first =
      in.classify(tsPacket(kVideoPid, true, pes(0xE0, cat({kAud, kSps, kPps, kIdr}))));
  EXPECT_EQ(first, Importance::kParameterSets | Importance::kKeyframe);
  EXPECT_EQ(in.classify(tsPacket(kVideoPid, false, kContinuation)), Importance::kKeyframe);
  // Audio interleaved with the keyframe stays audio.
  EXPECT_EQ(in.classify(tsPacket(kAudioPid, false, kContinuation)), Importance::kAudio);
  EXPECT_EQ(in.classify(tsPacket(kVideoPid, false, kContinuation)), Importance::kKeyframe);
  // The next access unit (a P slice) ends the keyframe.
  EXPECT_EQ(in.classify(tsPacket(kVideoPid, true, pes(0xE0, cat({kAud, kNonIdr})))),
            Importance::kNone);
  EXPECT_EQ(in.classify(tsPacket(kVideoPid, false, kContinuation)), Importance::kNone);
}

TEST(TsInspector, MarksAKeyframeByTheRandomAccessIndicatorAlone) {
  TsInspector in = h264AacInspector();
  EXPECT_EQ(in.classify(tsPacket(kVideoPid, true, pes(0xE0, cat({kAud, kNonIdr})), true)),
            Importance::kKeyframe);
  EXPECT_EQ(in.classify(tsPacket(kVideoPid, false, kContinuation)), Importance::kKeyframe);
  EXPECT_EQ(in.classify(tsPacket(kVideoPid, true, pes(0xE0, cat({kAud, kNonIdr})))),
            Importance::kNone);
}

TEST(TsInspector, FindsANalStartCodeSplitAcrossTwoTsPackets) {
  TsInspector in = h264AacInspector();
  // "00 00" ends the first packet, "01 65" (IDR) starts the second.
  Bytes first = pes(0xE0, kAud);
  first.resize(184, 0x5A);
  first[182] = 0x00;
  first[183] = 0x00;
  Bytes second = {0x01, 0x65};
  second.resize(184, 0x5A);
  EXPECT_EQ(in.classify(tsPacket(kVideoPid, true, first)), Importance::kNone);
  EXPECT_EQ(in.classify(tsPacket(kVideoPid, false, second)), Importance::kKeyframe);

  // "00" | "00 01 67" (SPS), on a fresh P-frame PES.
  Bytes third = pes(0xE0, kNonIdr);
  third.resize(184, 0x5A);
  third[183] = 0x00;
  Bytes fourth = {0x00, 0x01, 0x67};
  fourth.resize(184, 0x5A);
  EXPECT_EQ(in.classify(tsPacket(kVideoPid, true, third)), Importance::kNone);
  EXPECT_EQ(in.classify(tsPacket(kVideoPid, false, fourth)), Importance::kParameterSets);
}

TEST(TsInspector, DoesNotJoinStartCodesAcrossAnotherPidsPacket) {
  TsInspector in = h264AacInspector();
  // An audio packet ending in "00 00" and a video packet starting with "01 65": the
  // bytes belong to different streams.
  Bytes audio = pes(0xC0, {});
  audio.resize(184, 0x11);
  audio[182] = 0x00;
  audio[183] = 0x00;
  in.classify(tsPacket(kVideoPid, true, pes(0xE0, cat({kAud, kNonIdr}))));
  in.classify(tsPacket(kAudioPid, true, audio));
  Bytes video = {0x01, 0x65};
  video.resize(184, 0x5A);
  EXPECT_EQ(in.classify(tsPacket(kVideoPid, false, video)), Importance::kNone);
}

TEST(TsInspector, MarksHevcParameterSetsAndIrapPictures) {
  TsInspector in;
  in.classify(pat());
  in.classify(pmt({{0x24, kVideoPid, {}}}));
  ASSERT_EQ(in.elementaryStreams().at(kVideoPid), Kind::kHevc);
  // HEVC NAL header: type in bits 1-6 of the first byte.
  auto hevc = [](int type) { return nal({static_cast<std::uint8_t>(type << 1), 0x01}); };
  const Bytes aud = hevc(35);
  for (int type : {32, 33, 34}) {
    EXPECT_EQ(in.classify(tsPacket(kVideoPid, true, pes(0xE0, cat({aud, hevc(type), hevc(1)})))),
              Importance::kParameterSets)
        << "type " << type;
  }
  for (int type : {16, 19, 20, 21}) {
    EXPECT_EQ(in.classify(tsPacket(kVideoPid, true, pes(0xE0, cat({aud, hevc(type)})))),
              Importance::kKeyframe)
        << "type " << type;
  }
  for (int type : {0, 1, 15, 22, 31}) {
    EXPECT_EQ(in.classify(tsPacket(kVideoPid, true, pes(0xE0, cat({aud, hevc(type)})))),
              Importance::kNone)
        << "type " << type;
  }
}

TEST(TsInspector, MarksTheMpeg2SequenceHeaderAsParameterSets) {
  TsInspector in;
  in.classify(pat());
  in.classify(pmt({{0x02, kVideoPid, {}}}));
  ASSERT_EQ(in.elementaryStreams().at(kVideoPid), Kind::kMpegVideo);
  const Bytes sequence_header = {0x00, 0x00, 0x01, 0xB3, 0x14, 0x00, 0xF0, 0x13};
  const Bytes picture = {0x00, 0x00, 0x01, 0x00, 0x00, 0x0F, 0xFF, 0xF8};
  EXPECT_EQ(
      in.classify(tsPacket(kVideoPid, true, pes(0xE0, cat({sequence_header, picture})), true)),
      Importance::kParameterSets | Importance::kKeyframe);
  EXPECT_EQ(in.classify(tsPacket(kVideoPid, true, pes(0xE0, picture))), Importance::kNone);
}

TEST(TsInspector, RecognisesEveryAudioStreamType) {
  for (std::uint8_t type : {0x03, 0x04, 0x0F, 0x11, 0x81, 0x87}) {
    TsInspector in;
    in.classify(pat());
    in.classify(pmt({{0x1B, kVideoPid, {}}, {type, kAudioPid, {}}}));
    EXPECT_EQ(in.elementaryStreams().at(kAudioPid), Kind::kAudio) << "type " << int{type};
    EXPECT_EQ(in.classify(tsPacket(kAudioPid, true, pes(0xC0, Bytes(20, 0x11)))),
              Importance::kAudio)
        << "type " << int{type};
  }
}

TEST(TsInspector, TakesPrivateDataAsAudioOnlyWithAnAudioDescriptor) {
  const Bytes iso639 = {0x0A, 0x04, 'e', 'n', 'g', 0x00};
  for (std::uint8_t tag : {0x6A, 0x7A, 0x7C}) {
    TsInspector in;
    in.classify(pat());
    // The audio descriptor after another one: the loop must step over the first.
    in.classify(pmt({{0x06, kAudioPid, cat({iso639, Bytes{tag, 0x01, 0x00}})}}));
    EXPECT_EQ(in.elementaryStreams().at(kAudioPid), Kind::kAudio) << "tag " << int{tag};
    EXPECT_EQ(in.classify(tsPacket(kAudioPid, false, kContinuation)), Importance::kAudio);
  }
  TsInspector subtitles;
  subtitles.classify(pat());
  subtitles.classify(pmt({{0x06, kAudioPid, {0x59, 0x08, 'e', 'n', 'g', 0x10, 0, 1, 0, 1}}}));
  EXPECT_EQ(subtitles.elementaryStreams().at(kAudioPid), Kind::kOther);
  EXPECT_EQ(subtitles.classify(tsPacket(kAudioPid, false, kContinuation)), Importance::kNone);
}

TEST(TsInspector, SkipsProgramDescriptorsInThePmt) {
  TsInspector in;
  in.classify(pat());
  // A registration descriptor ("HDMV") and a CA-like descriptor before the streams.
  in.classify(pmt({{0x1B, kVideoPid, {}}, {0x0F, kAudioPid, {}}},
                  {0x05, 0x04, 'H', 'D', 'M', 'V', 0x88, 0x02, 0x0F, 0xFF}));
  const std::map<std::uint16_t, Kind> expected = {{kVideoPid, Kind::kH264},
                                                  {kAudioPid, Kind::kAudio}};
  EXPECT_EQ(in.elementaryStreams(), expected);
}

TEST(TsInspector, CombinesTheMarksOfEveryPacketInAPayload) {
  TsInspector in = h264AacInspector();
  const Bytes payload = cat({tsPacket(kAudioPid, true, pes(0xC0, Bytes(20, 0x11))),
                             tsPacket(kVideoPid, true, pes(0xE0, cat({kAud, kIdr}))), pat()});
  EXPECT_EQ(in.classify(payload),
            Importance::kAudio | Importance::kKeyframe | Importance::kParameterSets);
  // A trailing partial packet is ignored: here, a cut-off PAT.
  Bytes with_partial = tsPacket(kVideoPid, true, pes(0xE0, cat({kAud, kNonIdr})));
  const Bytes p = pat();
  with_partial.insert(with_partial.end(), p.begin(), p.begin() + 100);
  EXPECT_EQ(in.classify(with_partial), Importance::kNone);
  EXPECT_EQ(in.classify(Bytes{}), Importance::kNone);
}

// --- a real file ----------------------------------------------------------------------

Bytes fileBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Four seconds of H.264 (GOP 25 at 25 fps) and AAC in MPEG-TS, made once per run.
std::filesystem::path sampleTs() {
  static const std::filesystem::path path = [] {
    const auto p = std::filesystem::temp_directory_path() /
                   ("bondcast-ts-inspect-" + std::to_string(::getpid()) + ".ts");
    const std::string command =
        "ffmpeg -nostdin -y -v error -f lavfi -i testsrc2=size=320x240:rate=25 "
        "-f lavfi -i sine=frequency=1000:sample_rate=48000 -t 4 -c:v libx264 -preset veryfast "
        "-g 25 -pix_fmt yuv420p -b:v 1M -c:a aac -b:a 96k -f mpegts '" +
        p.string() + "' 2>&1";
    FILE* pipe = popen(command.c_str(), "r");
    std::string out;
    if (pipe != nullptr) {
      char buf[512];
      std::size_t n = 0;
      while ((n = fread(buf, 1, sizeof buf, pipe)) > 0)
        out.append(buf, n);
      const int status = pclose(pipe);
      if (status != 0)
        ADD_FAILURE() << "ffmpeg failed (" << status << "): " << out;
    }
    return p;
  }();
  return path;
}

TEST(TsInspector, MarksARealH264AacStreamPlausibly) {
  const auto path = sampleTs();
  const Bytes file = fileBytes(path);
  std::filesystem::remove(path);
  ASSERT_GT(file.size(), 100u * ts::kPacketBytes);
  ASSERT_EQ(file.size() % ts::kPacketBytes, 0u);

  TsInspector in;
  constexpr std::size_t kPayloadBytes = 7 * ts::kPacketBytes;  // 1316, as the sender sends
  std::size_t payloads = 0, keyframe = 0;
  std::size_t with_pat = 0, with_pat_marked = 0;
  std::size_t with_audio = 0, with_audio_marked = 0;
  std::size_t with_random_access = 0, with_random_access_marked = 0;
  std::uint16_t video_pid = 0, audio_pid = 0;
  for (std::size_t at = 0; at < file.size(); at += kPayloadBytes) {
    const auto payload = std::span(file).subspan(at, std::min(kPayloadBytes, file.size() - at));
    const Importance marks = in.classify(payload);
    for (const auto& [pid, kind] : in.elementaryStreams()) {
      if (kind == Kind::kH264)
        video_pid = pid;
      if (kind == Kind::kAudio)
        audio_pid = pid;
    }
    bool pat = false, audio = false, random_access = false;
    for (std::size_t p = 0; p + ts::kPacketBytes <= payload.size(); p += ts::kPacketBytes) {
      const auto info = ts::parsePacket(payload.subspan(p, ts::kPacketBytes));
      ASSERT_TRUE(info.has_value());
      pat |= info->pid == 0;
      audio |= audio_pid != 0 && info->pid == audio_pid;
      random_access |= video_pid != 0 && info->pid == video_pid && info->random_access;
    }
    ++payloads;
    keyframe += has(marks, Importance::kKeyframe);
    with_pat += pat;
    with_pat_marked += pat && has(marks, Importance::kParameterSets);
    with_audio += audio;
    with_audio_marked += audio && has(marks, Importance::kAudio);
    with_random_access += random_access;
    with_random_access_marked += random_access && has(marks, Importance::kKeyframe);
  }
  ASSERT_NE(video_pid, 0) << "no H.264 stream found in the PMT";
  ASSERT_NE(audio_pid, 0) << "no audio stream found in the PMT";

  const double keyframe_fraction = static_cast<double>(keyframe) / payloads;
  std::cout << payloads << " payloads, " << keyframe << " keyframe (" << keyframe_fraction << "), "
            << with_audio << " with audio\n";
  EXPECT_GT(keyframe_fraction, 0.0);
  EXPECT_LT(keyframe_fraction, 0.6);
  EXPECT_GE(with_pat, 1u);
  EXPECT_EQ(with_pat_marked, with_pat);
  EXPECT_GE(with_audio, 10u);
  EXPECT_EQ(with_audio_marked, with_audio);
  EXPECT_GE(with_random_access, 4u) << "4 s at GOP 25: at least 4 keyframes";
  EXPECT_EQ(with_random_access_marked, with_random_access);
}

}  // namespace
}  // namespace bondcast::sender
