#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
"""Writes the seed corpora of the fuzz targets into fuzz/corpus/<target>/.

Each seed is a small valid input in the real format the target parses: wire headers and
stream ids as the sender builds them, MPEG-TS from ffmpeg's encoder and hand-made PSI/PES
packets, the README's URIs, the repository's scenario files (those without traces), and
packet sequences as a receiver sees them. Run it after changing a target's input layout;
the fuzzers never write into these folders (tools/run fuzz works on a copy).

  fuzz/make_seeds.py            # needs ffmpeg (tools/setup installs it)
"""
import json
import os
import pathlib
import shutil
import struct
import subprocess
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"
SESSION = 0x0B0DCA57  # merge_fuzz.cpp's kSession


def write(target, name, data):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def wire_header(seq, source_us, flags=0, session=SESSION, version=1, magic=b"BC"):
    return magic + bytes([version, flags]) + struct.pack(">IQQ", session, seq, source_us)


def receipt(below, received, session=SESSION):
    """A receipt (common/wire.h): what the receiver holds, as it sends it to the sender."""
    bits = (max(received) - below) // 8 * 8 + 8 if received else 0
    bitmap = bytearray(bits // 8)
    for seq in received:
        i = seq - below
        bitmap[i // 8] |= 0x80 >> (i % 8)
    return b"BR" + bytes([1, 0]) + struct.pack(">IQH", session, below, bits) + bytes(bitmap)


# --- MPEG-TS -------------------------------------------------------------------------

def crc32_mpeg(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if crc & 0x80000000 else (crc << 1) & 0xFFFFFFFF
    return crc


def ts_packet(pid, payload=b"", pusi=False, cc=0, af=None):
    """One 188-byte packet; af is the adaptation field's body (flags first) or None."""
    head = bytes([0x47, (0x40 if pusi else 0) | (pid >> 8), pid & 0xFF])
    control = (0x20 if af is not None else 0) | (0x10 if payload else 0)
    body = b""
    if af is not None:
        room = 184 - len(payload)
        af_len = max(len(af), room - 1)
        body = bytes([af_len]) + af + b"\xff" * (af_len - len(af))
    elif len(payload) < 184:  # stuff through an adaptation field
        af_len = 184 - len(payload) - 1
        control |= 0x20
        body = bytes([af_len]) + (b"\x00" + b"\xff" * (af_len - 1) if af_len else b"")
    packet = head + bytes([control | (cc & 0x0F)]) + body + payload
    assert len(packet) == 188, len(packet)
    return packet


def psi(table_id, ext, body):
    section = bytes([table_id]) + struct.pack(">H", 0xB000 | (len(body) + 9)) + \
        struct.pack(">H", ext) + b"\xc1\x00\x00" + body
    return b"\x00" + section + struct.pack(">I", crc32_mpeg(section))


def pat(pmt_pid):
    return psi(0x00, 1, struct.pack(">HH", 1, 0xE000 | pmt_pid))


def pmt(pcr_pid, streams):
    body = struct.pack(">HH", 0xE000 | pcr_pid, 0xF000)
    for stream_type, pid, descriptors in streams:
        body += bytes([stream_type]) + struct.pack(">HH", 0xE000 | pid, 0xF000 | len(descriptors))
        body += descriptors
    return psi(0x02, 1, body)


def pes_timestamp(marker, t):
    return bytes([(marker << 4) | ((t >> 29) & 0x0E) | 1, (t >> 22) & 0xFF,
                  ((t >> 14) & 0xFE) | 1, (t >> 7) & 0xFF, ((t << 1) & 0xFE) | 1])


def pes(stream_id, es, pts=None, dts=None):
    fields = b""
    flags = 0
    if pts is not None:
        flags = 0x80
        fields = pes_timestamp(3 if dts is not None else 2, pts)
        if dts is not None:
            flags = 0xC0
            fields += pes_timestamp(1, dts)
    header = bytes([0x80, flags, len(fields)]) + fields
    return b"\x00\x00\x01" + bytes([stream_id]) + b"\x00\x00" + header + es


def pcr_field(pcr_27mhz, discontinuity=False, random_access=False):
    base, ext = divmod(pcr_27mhz, 300)
    flags = 0x10 | (0x80 if discontinuity else 0) | (0x40 if random_access else 0)
    return bytes([flags]) + struct.pack(">IH", base >> 1, ((base & 1) << 15) | 0x7E00 | ext)


def crafted_hevc_ac3():
    """PAT, a PMT with HEVC video and AC-3 (private data + AC-3 descriptor), PES with PTS
    and DTS, VPS/SPS/PPS and an IDR, PCR on the video PID."""
    packets = [ts_packet(0, pat(0x1000), pusi=True), ts_packet(0x1000, pmt(0x100, [
        (0x24, 0x100, b""), (0x06, 0x101, b"\x6a\x01\x00")]), pusi=True)]
    nal = lambda t: b"\x00\x00\x00\x01" + bytes([t << 1, 1]) + b"\xaa" * 8
    es = nal(32) + nal(33) + nal(34) + nal(19) + b"\x55" * 40
    packets.append(ts_packet(0x100, pes(0xE0, es, pts=183000, dts=180000), pusi=True,
                             af=pcr_field(180000 * 300, random_access=True)))
    packets.append(ts_packet(0x100, b"\x00\x00\x01" + bytes([1 << 1, 1]) + b"\x11" * 50, cc=1))
    packets.append(ts_packet(0x101, pes(0xBD, b"\x0b\x77" + b"\x22" * 30, pts=181000), pusi=True))
    packets.append(ts_packet(0x100, pes(0xE0, nal(1) + b"\x33" * 20, pts=186000, dts=183000),
                             pusi=True, cc=2, af=pcr_field(183000 * 300)))
    return b"".join(packets)


def crafted_mpeg2_pcr_wrap():
    """MPEG-2 video with a sequence header, its PCR running up to the 33-bit wrap, then a
    discontinuity; a null packet between."""
    wrap = (1 << 33) * 300
    packets = [ts_packet(0, pat(0x20), pusi=True),
               ts_packet(0x20, pmt(0x31, [(0x02, 0x31, b""), (0x0F, 0x32, b"")]), pusi=True)]
    seq_header = b"\x00\x00\x01\xb3" + b"\x14\x00\xf0\x13\xff\xff\xe0\x18"
    packets.append(ts_packet(0x31, pes(0xE0, seq_header + b"\x00\x00\x01\x00" + b"\x44" * 16,
                                       pts=(1 << 33) - 9000), pusi=True,
                             af=pcr_field(wrap - 27_000_000 // 25, random_access=True)))
    packets.append(ts_packet(0x1FFF, b"\xff" * 184))
    packets.append(ts_packet(0x31, b"\x66" * 100, cc=1, af=pcr_field(1000)))
    packets.append(ts_packet(0x32, pes(0xC0, b"\xff\xf1" + b"\x00" * 20, pts=100), pusi=True))
    packets.append(ts_packet(0x31, b"\x77" * 100, cc=2, af=pcr_field(5_000_000, discontinuity=True)))
    return b"".join(packets)


def ffmpeg_ts():
    """Half a second of H.264 + AAC as ffmpeg's muxer writes it (SDT, PAT, PMT, PES)."""
    if not shutil.which("ffmpeg"):
        raise SystemExit("make_seeds.py: ffmpeg is needed for the TS seeds")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "seed.ts")
        subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                        "testsrc=size=32x32:rate=10", "-f", "lavfi", "-i",
                        "sine=frequency=440:sample_rate=8000", "-t", "0.5", "-c:v", "libx264",
                        "-g", "5", "-c:a", "aac", "-b:a", "16k", "-f", "mpegts", "-y", out],
                       check=True)
        return pathlib.Path(out).read_bytes()


# --- merge records -------------------------------------------------------------------

def record(op, link, step, length, header):
    assert len(header) == 24
    return bytes([op, link]) + struct.pack(">H", step) + bytes([length]) + header


PUSH, PUSH_RELEASE, RELEASE, RELEASE_AT_DEADLINE, MS = 0, 1, 2, 3, 0x80
SOURCE0 = 5_000_000_000  # the sender's clock, us


def merge_two_links():
    """Packets every 2 ms over two links 20 ms apart, some duplicated, releases in between."""
    out = bytes([28, 0, 0])  # 300 ms latency, default limits
    for seq in range(40):
        src = SOURCE0 + seq * 2000
        out += record(PUSH_RELEASE, 0, 2000, 40, wire_header(seq, src))
        if seq % 5 == 0:  # a duplicate on the slower link
            out += record(PUSH, 1, 100, 40, wire_header(seq, src, flags=1))
    out += record(RELEASE | MS, 0, 400, 0, wire_header(0, 0))
    return out


def merge_gap_late():
    """A gap, a packet that comes after its playout time, a re-sent one, reordering."""
    out = bytes([8, 0, 0])  # 100 ms latency
    order = [0, 1, 2, 4, 3, 6, 7, 9, 8, 10]
    for seq in order:
        out += record(PUSH_RELEASE, seq % 3, 3000, 20, wire_header(seq, SOURCE0 + seq * 3000))
    out += record(RELEASE_AT_DEADLINE, 0, 0, 0, wire_header(0, 0))
    out += record(PUSH_RELEASE | MS, 2, 300, 20, wire_header(5, SOURCE0 + 5 * 3000, flags=2))
    for seq in range(11, 20):
        out += record(PUSH_RELEASE, 1, 3000, 20, wire_header(seq, SOURCE0 + seq * 3000))
    return out


def merge_limits():
    """Small limits: 8 packets buffered at most, a jump ahead beyond 16 that restarts, a
    source time far in the future, a foreign session and a bad header."""
    out = bytes([48, 8, 16])
    for seq in range(20):
        out += record(PUSH, 0, 500, 10, wire_header(seq, SOURCE0 + seq * 500))
    out += record(RELEASE | MS, 0, 200, 0, wire_header(0, 0))
    out += record(PUSH_RELEASE, 1, 1000, 10, wire_header(1000, SOURCE0 + 30_000))
    out += record(PUSH_RELEASE, 1, 1000, 10, wire_header(1001, SOURCE0 + 3_600_000_000))
    out += record(PUSH, 1, 1000, 10, wire_header(1002, SOURCE0 + 31_000, session=1))
    out += record(PUSH, 1, 1000, 10, wire_header(1003, SOURCE0 + 32_000, magic=b"XX"))
    out += record(RELEASE_AT_DEADLINE, 0, 0, 0, wire_header(0, 0))
    return out


def merge_drift():
    """One link whose delay rises slowly (a queue, or drift), then a faster link joins."""
    out = bytes([18, 0, 0])
    for i in range(60):
        seq = i
        out += record(PUSH_RELEASE | MS, 0, 100, 8, wire_header(seq, SOURCE0 + i * 99_000))
    for i in range(60, 70):
        out += record(PUSH_RELEASE | MS, 3, 100, 8, wire_header(i, SOURCE0 + i * 100_000))
    return out


def main():
    if CORPUS.exists():
        shutil.rmtree(CORPUS)

    # wire: headers as on a link, stream ids as callers announce them
    write("wire", "header_payload", wire_header(42, SOURCE0, flags=0x0C) + b"\x47" + b"\x00" * 187)
    write("wire", "header_only", wire_header(0, 0))
    write("wire", "too_short", wire_header(1, 1)[:20])
    write("wire", "bad_version", wire_header(1, 1, version=2))
    write("wire", "stream_id_link", "#!::r=cam1,bcs=0b0dca57,bcl=2,bclat=500")
    write("wire", "stream_id_plain", "#!::r=cam1,m=publish")
    write("wire", "stream_id_bad", "#!::bcs=12,bcl=300")
    write("wire", "stream_id_receipts", "#!::r=cam1,bcs=0b0dca57,bcl=2,bclat=500,bcr=1")
    write("wire", "receipt", receipt(1000, [1000, 1003, 1009]))
    write("wire", "receipt_empty", receipt(77, []))

    # ts: 3 option bytes (fallback bitrate, max jump, restart packet), then the stream
    real = ffmpeg_ts()
    write("ts", "ffmpeg_h264_aac", bytes([40, 19, 255]) + real)
    write("ts", "hevc_ac3", bytes([40, 19, 3]) + crafted_hevc_ac3())
    write("ts", "mpeg2_pcr_wrap", bytes([0, 3, 255]) + crafted_mpeg2_pcr_wrap())

    # packetizer: mode, 4 chunk-size bytes, then the stream
    write("packetizer", "raw_garbage_first", bytes([0, 0, 23, 164, 5]) + b"\x47\x12\x47" + real[:188 * 12])
    write("packetizer", "clean", bytes([1, 164, 164, 1, 40]) + real[:188 * 9])
    write("packetizer", "garbage_then_clean", bytes([2, 3, 200, 7, 0, 50]) + b"\x11" * 50 +
          crafted_hevc_ac3())

    # uri and link_spec: what users type
    uris = {
        "link": "srt://studio.example:9000?bind=192.168.8.100",
        "link_options": "srt://studio:9000?passphrase=a-long-secret&bind=10.0.0.2:0&cost=3&weight=10&latency=700&pbkeylen=32&conntimeo=3000&dev=wwan0",
        "listener": "srt://:9000?passphrase=a-long-secret&latency=700",
        "ipv6": "srt://[::1]:7000?weight=1",
        "udp_listen": "udp://@:5000",
        "output_caller": "srt://media.example:1935?streamid=%23!::r=live/cam1,m=publish",
    }
    for name, text in uris.items():
        write("uri", name, text)
        write("link_spec", name, text)
    # Written by hand (2026-12-05) when fuzz_run stopped on the old leak check again: a host
    # "passphrase=X..." and a port with a leading 0, which the error message writes without
    # it, spelled "passphrase=SECRET" with no byte of the secret shown.
    write("link_spec", "shown_port_spells_a_passphrase",
          "srt://passphrase=Xabcdefghi:08421?passphrase=Xabcdefghi:8421&zz=1")
    # Found by fuzz_run (2026-12-05): a host ending in "passphrase=X" and a passphrase
    # "X]:8421?latye=t"; kept so that the target's leak check is run on it every time.
    write("link_spec", "shown_host_spells_a_passphrase", bytes.fromhex(
        "9372743a2f2f00343a9affffff35343434343434347e34343434343073737068726173653d612d6c"
        "6f6e672d736563726579d77265742662696ee43d653d7426706173737068726173653d7274bd6469"
        "6e672d736563727365637265742662696ee43d653d7426706173737068726173653d7274bd64696f"
        "3a383432313f6e6379653d7426706173737068726173653d7274bd64696f5d3a383432313f6c6174"
        "79653d74266e6379653d742670266c617479653d7426706173737068726173653d612d6c6f020000"
        "0000000000796f3a383432313f6e6379653d7426706173737068726173653d612d6c6f6e672d7365"
        "63723432313f6e3031"
    ))

    # emulator_config: mode (0 link, 1 event, 2 JSON scenario), then the text
    write("emulator_config", "link", b"\x00" + b"listen=127.0.0.1:7001,to=127.0.0.1:9000,rate=10mbit,delay=15ms,jitter=2ms,loss=0.5%,queue=200ms,rev-delay=10ms,rev-rate=1mbit")
    write("emulator_config", "link_ge", b"\x00" + b"listen=127.0.0.1:0,to=localhost:9000,via=127.0.0.1:0,ge=1%:30%:80%:0%,reorder=1,queue=300kb")
    write("emulator_config", "event_down", b"\x01" + b"at=10s,link=0,down=5s,dir=fwd")
    write("emulator_config", "event_flap", b"\x01" + b"at=20s,link=1,flap=5x200ms/800ms")
    write("emulator_config", "event_change", b"\x01" + b"at=30s,link=2,rate=1mbit,delay=400ms,rev-loss=2%")
    for name in ("s2_outages", "s3a_burst_loss"):
        text = (ROOT / "eval" / "scenarios" / f"{name}.json").read_text()
        write("emulator_config", name, b"\x02" + text.encode())

    # sim_scenario: the simulator's own scenarios and eval's without traces (one schema), and
    # one with every section
    for name in ("aggregation", "outage", "speed"):
        write("sim_scenario", name, (ROOT / "scheduler" / "sim" / "scenarios" / f"{name}.json").read_text())
    for name in ("s2_outages", "s3a_burst_loss"):
        write("sim_scenario", name, (ROOT / "eval" / "scenarios" / f"{name}.json").read_text())
    write("sim_scenario", "everything", json.dumps({
        "name": "everything", "seed": 3, "duration": "10s", "latency": "400ms", "stats_period": "20ms",
        "video": {"kind": "cbr", "bitrate": "4mbit", "fps": 25, "gop": 50, "iframe_ratio": 4,
                  "packet_bytes": 1316, "audio": "128kbit"},
        "scheduler": {"overhead_budget": 0.04, "safety_margin": "5ms", "queue_uncertainty": 0.5},
        "links": [{"name": "lte", "rate": "8mbit", "delay": "40ms", "jitter": "5ms", "ge": "1%:30%",
                   "queue": "300kb", "cost": 3},
                  {"rate": "5mbit", "delay": "60ms", "loss": "0.5%", "queue": "unlimited"}],
        "events": [{"at": "2s", "link": 0, "down": "1s"}, {"at": "5s", "link": 1, "flap": "3x100ms/400ms"},
                   "at=6s,link=1,down", "at=6500ms,link=1,up", "at=7s,link=1,rate=2mbit,delay=90ms,loss=1%"],
        "_eval": {"name": "skipped"},
    }, indent=1))
    write("sim_scenario", "sockets_and_return_delay", json.dumps({
        "latency": "300ms", "video": {"bitrate": "3mbit"},
        "links": ["listen=127.0.0.1:0,to=127.0.0.1:9000,rate=4mbit,delay=30ms,rev-delay=10ms,reorder=0",
                  {"listen": "127.0.0.1:0", "from": "127.0.0.2", "rate": "2mbit", "delay": "50ms"}],
    }, indent=1))

    # merge: settings, then 29-byte records
    write("merge", "two_links", merge_two_links())
    write("merge", "gap_late", merge_gap_late())
    write("merge", "limits", merge_limits())
    write("merge", "drift", merge_drift())

    # srtla: datagrams of every kind; "session" drives the registry (srtla_fuzz.cpp: per
    # step op, address, ms to advance, id byte or index of an answered id, [traffic bytes])
    gid = bytes(range(256))
    write("srtla", "reg1", struct.pack(">H", 0x9200) + gid)
    write("srtla", "reg2", struct.pack(">H", 0x9201) + gid)
    write("srtla", "reg3-padded", struct.pack(">H", 0x9202) + bytes(30))
    write("srtla", "keepalive-ts", struct.pack(">HQ", 0x9000, 1733300000000))
    write("srtla", "ack", struct.pack(">HH", 0x9100, 0) +
          b"".join(struct.pack(">I", i) for i in range(100, 110)))
    write("srtla", "srt-data", struct.pack(">I", 12345) + bytes(12) + b"\x47" + bytes(187))
    write("srtla", "srt-handshake", b"\x80" + bytes(63))
    write("srtla", "session", bytes([0x00, 1, 0, 10, 0x5a, 0x11, 1, 0, 5, 0, 0x11, 2, 0, 5, 0,
                                     0x11, 3, 0, 5, 0, 0x02, 2, 0, 20, 5, 0x24,
                                     0x03, 0, 0x0b, 0xb8, 0]))

    total = sum(f.stat().st_size for f in CORPUS.rglob("*") if f.is_file())
    print(f"wrote {sum(1 for f in CORPUS.rglob('*') if f.is_file())} seeds, {total} bytes")


if __name__ == "__main__":
    main()
