# SPDX-License-Identifier: MPL-2.0
"""The input of every run: a real H.264 + AAC MPEG-TS made with ffmpeg (libx264 in CBR
with HRD filler, a fixed mux rate), cached in the output folder by its parameters."""
import math
import pathlib
import subprocess

from .procs import RunError

AUDIO_BPS = 128_000
VERSION = 1  # bump when the command below changes, so cached samples are remade


def sample_command(bitrate_bps, duration_s, path):
    video_bps = int(bitrate_bps * 0.92) - AUDIO_BPS
    return ["ffmpeg", "-nostdin", "-y", "-v", "error",
            "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25",
            "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
            "-t", f"{duration_s:g}",
            "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency",
            "-g", "50", "-pix_fmt", "yuv420p",
            "-b:v", str(video_bps), "-maxrate", str(video_bps), "-bufsize", str(video_bps // 2),
            "-x264-params", "nal-hrd=cbr",
            "-c:a", "aac", "-b:a", str(AUDIO_BPS),
            "-muxrate", str(int(bitrate_bps)), "-f", "mpegts", str(path)]


def sample(cache_dir, bitrate_bps, duration_s):
    """Path of the cached sample, made on first use (about 1 s per 10 s of video)."""
    cache_dir = pathlib.Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    seconds = math.ceil(duration_s)
    path = cache_dir / f"sample-v{VERSION}-{bitrate_bps / 1e6:g}mbit-{seconds}s.ts"
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp.ts")
    cmd = sample_command(bitrate_bps, seconds, tmp)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if done.returncode != 0 or not tmp.exists():
        raise RunError(f"ffmpeg could not make the sample ({' '.join(cmd)}): {done.stderr}")
    tmp.rename(path)
    return path
